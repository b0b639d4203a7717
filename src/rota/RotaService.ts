import { setTimeout as sleep } from "node:timers/promises";
import { DomainError } from "../errors/DomainError";
import { RoomId } from "../ids/matrix";
import { RuleError } from "../model/rules";
import { Rota, RotaName, Rotation } from "../model/rota";
import { RotaStore } from "../store/RotaStore";
import { KeyedMutex } from "../util/KeyedMutex";
import { RotaEdit } from "./commands";
import { applyRotaEdit, newRota, RotaEditContext } from "./edits";
import { anchorFor } from "./schedule";

/**
 * The one place rotas are created, changed and deleted (the bot's commands
 * now, the provisioning API later). Every change is a compare-and-set on
 * the stored version; an edit that loses a race to another bridge instance
 * is applied again to what won, so neither moderator's change is lost.
 * Who may change a rota is the caller's question (the room's power levels).
 */

export interface RotaServiceOptions {
  /** This homeserver's domain: a rota is NAME@domain. */
  domain: string;
  /** The zone of a new rota (config rules.defaultTimeZone). */
  defaultTimeZone: string;
  /** Most rules a rota may have (config rules.maxRulesPerUser). */
  maxRules: number;
  /** The latest handover at or before `at`; default schedule.ts's. */
  anchorFor?(rotation: Rotation, at: number): number;
  /** Why `name` cannot be a rota's (a local user has it, the bridge's own
   *  users), or undefined. Asked before a rota is created. */
  nameProblem(name: RotaName): Promise<string | undefined>;
  /** Attempts of one edit that keeps losing races; default 10. */
  maxEditAttempts?: number;
}

export const NOT_A_ROTA = "This room is not a rota yet. A moderator can make it one with rota create NAME, e.g. rota create on-call.";

export class RotaService {
  /** Edits of one room from this process run one at a time. */
  private readonly edits = new KeyedMutex();

  private readonly context: Omit<RotaEditContext, "now">;

  constructor(private readonly store: RotaStore, private readonly opts: RotaServiceOptions) {
    this.context = { anchorFor: opts.anchorFor ?? anchorFor, maxRules: opts.maxRules };
  }

  byRoom(roomId: RoomId): Promise<Rota | undefined> {
    return this.store.getRotaByRoom(roomId);
  }

  byName(name: RotaName): Promise<Rota | undefined> {
    return this.store.getRota(name);
  }

  address(rota: Rota): string {
    return `${rota.name}@${this.opts.domain.toLowerCase()}`;
  }

  /** Makes the room the rota `name`, with the defaults of newRota. */
  create(roomId: RoomId, name: RotaName, now: number): Promise<Rota> {
    return this.edits.run(roomId, async () => {
      const existing = await this.store.getRotaByRoom(roomId);
      if (existing) throw new RuleError(`This room is already the rota ${this.address(existing)}; rota delete first to start again.`, "create");
      const problem = await this.opts.nameProblem(name);
      if (problem) throw new RuleError(`A rota can't be called ${name}: ${problem}.`, name);
      const rota = newRota(name, roomId, { ...this.context, domain: this.opts.domain, zone: this.opts.defaultTimeZone, now });
      switch (await this.store.saveRota(rota, 0)) {
        case "saved": return saved(rota, 1);
        case "name_taken": throw new RuleError(`Another room already is the rota ${name}@${this.opts.domain.toLowerCase()}; choose another name.`, name);
        case "room_taken":
        case "conflict": throw new RuleError("Someone made this room a rota at the same moment; send rota to see it.", "create");
      }
    });
  }

  /** Applies `edit` to the room's rota and saves it; the rota before and after.
   *  With `ifVersion` (what an API client read), a rota changed since is
   *  refused with WEBCALL_ROTA_CONFLICT instead of edited again. */
  edit(roomId: RoomId, edit: RotaEdit, now: number, ifVersion?: number): Promise<{ before: Rota; after: Rota }> {
    const attempts = this.opts.maxEditAttempts ?? 10;
    return this.edits.run(roomId, async () => {
      for (let attempt = 1; ; attempt++) {
        const before = await this.store.getRotaByRoom(roomId);
        if (!before) throw new RuleError(NOT_A_ROTA, "rota");
        if (ifVersion !== undefined && before.version !== ifVersion) throw rotaConflict();
        const next = applyRotaEdit(before, edit, { ...this.context, now });
        const result = await this.store.saveRota(next, before.version);
        if (result === "saved") return { before, after: saved(next, before.version + 1) };
        if (attempt >= attempts) throw new RuleError("The rota is being changed elsewhere at this moment; try again.", "rota");
        await sleep(Math.random() * 5 * attempt);
      }
    });
  }

  /** Deletes the room's rota; the rota as it was. The room stays a rota room.
   *  With `ifVersion`, only that version of it (else WEBCALL_ROTA_CONFLICT). */
  delete(roomId: RoomId, ifVersion?: number): Promise<Rota> {
    return this.edits.run(roomId, async () => {
      for (let attempt = 1; ; attempt++) {
        const rota = await this.store.getRotaByRoom(roomId);
        if (!rota) throw new RuleError(NOT_A_ROTA, "rota");
        if (ifVersion !== undefined && rota.version !== ifVersion) throw rotaConflict();
        if (await this.store.deleteRota(rota.name, rota.version)) return rota;
        if (attempt >= (this.opts.maxEditAttempts ?? 10)) throw new RuleError("The rota is being changed elsewhere at this moment; try again.", "rota");
      }
    });
  }
}

function rotaConflict(): DomainError {
  return new DomainError("WEBCALL_ROTA_CONFLICT", "someone else changed this rota since you read it; reload and try again");
}

function saved(rota: Rota, version: number): Rota {
  return { ...rota, version, rules: { ...rota.rules, version } };
}
