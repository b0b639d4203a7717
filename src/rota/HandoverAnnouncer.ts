import { logger } from "../log";
import { MatrixUserId, RoomId } from "../ids/matrix";
import { Rota, RotaMember, RotaName } from "../model/rota";
import { RotaStore } from "../store/RotaStore";
import { KeyedMutex } from "../util/KeyedMutex";
import { Announced, planAnnouncements } from "./announcements";

const log = logger("rota-announcements");

/** What the announcer needs beyond the store: the rota's members and the bot's notices. */
export interface AnnouncerSide {
  members(rota: Rota): Promise<RotaMember[]>;
  /** `txnId`: the same for one announcement, so a resend is the same message. */
  notice(roomId: RoomId, body: string, mentions: readonly MatrixUserId[], txnId: string): Promise<void>;
}

export interface AnnouncerOptions {
  /** Wall-clock time (ms since the epoch), as the schedule reads it. */
  now(): number;
  /** Longest wait before a rota is looked at again; default 10 min. */
  maxSleepMs?: number;
  /** Wait after a failure (the homeserver or the store unreachable); default 30 s. */
  retryMs?: number;
}

/**
 * Tells each rota's room when the person on call changes and reminds the
 * next person an hour ahead (docs/rotas.md, "Handover announcements"). One
 * timer per rota, set for the moment the schedule says (src/rota/
 * announcements.ts): each wake reads the clock and the schedule again, so
 * nothing drifts. What was told is kept in the store and saved after the
 * notice went out (with a transaction id of its own, so a resend after a
 * crash is one message): a restart announces only the present, once, and
 * never the handovers missed while the bridge was down.
 */
export class HandoverAnnouncer {
  private readonly timers = new Map<RotaName, NodeJS.Timeout>();
  private readonly turns = new KeyedMutex();
  private stopped = false;

  constructor(private readonly store: RotaStore, private readonly side: AnnouncerSide, private readonly opts: AnnouncerOptions) {}

  /** Looks at every rota once (after downtime: the present, if it changed), and sets their timers. */
  async start(): Promise<void> {
    const rotas = await this.store.listRotas();
    await Promise.all(rotas.map((rota) => this.lookAt(rota.name)));
  }

  /** A rota was created, changed or deleted: the command's reply told the
   *  room, so what it changed is remembered rather than announced; its
   *  timer is set again for its new schedule. */
  edited(name: RotaName): void {
    void this.lookAt(name, "edit");
  }

  /**
   * Sends what is due for the rota now (unless `cause` is an edit), saves
   * what the room was told and sets the rota's timer. The next wake, or
   * undefined when the rota is gone or the announcer stopped. Never throws:
   * a failure is logged and tried again later.
   */
  lookAt(name: RotaName, cause: "time" | "edit" = "time"): Promise<number | undefined> {
    return this.turns.run(name, async () => {
      this.clear(name);
      if (this.stopped) return undefined;
      try {
        const rota = await this.store.getRota(name);
        if (!rota) return undefined;
        const [members, stored] = await Promise.all([this.side.members(rota), this.store.getAnnounced(name)]);
        const now = this.opts.now();
        const announced: Announced | undefined = stored && { member: stored.member, shiftFrom: stored.shiftFrom, reminded: stored.reminded };
        const plan = planAnnouncements(rota, members, now, announced, this.opts.maxSleepMs ?? 10 * 60_000);
        if (cause === "time") {
          for (const notice of [plan.announce, plan.remind]) {
            if (notice) await this.side.notice(rota.roomId, notice.body, notice.mentions, `rota.${rota.name}.${notice.key}`);
          }
        }
        const { next } = plan;
        if (!announced || next.member !== announced.member || next.shiftFrom !== announced.shiftFrom || next.reminded !== announced.reminded) {
          // Lost to another instance: it told the room; the next wake reads what it saved.
          await this.store.saveAnnounced(name, next, stored?.version ?? 0);
        }
        this.arm(name, plan.wakeAt - now);
        return plan.wakeAt;
      } catch (err) {
        log.warn("could not tell the rota room of its schedule; trying again", { rota: name, error: (err as Error).message });
        const retryMs = this.opts.retryMs ?? 30_000;
        this.arm(name, retryMs);
        return this.opts.now() + retryMs;
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const name of [...this.timers.keys()]) this.clear(name);
    await this.turns.idle();
  }

  private arm(name: RotaName, ms: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(name);
      void this.lookAt(name);
    }, Math.max(0, ms));
    timer.unref();
    this.timers.set(name, timer);
  }

  private clear(name: RotaName): void {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }
}
