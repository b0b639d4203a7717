import { logger } from "../log";
import { LocalUsers } from "../ids/localUsers";
import { MatrixUserId, RoomId } from "../ids/matrix";
import { VirtualUsers } from "../ids/virtualUsers";
import { TextMessage } from "../matrix/events/types";
import { HomeserverClient } from "../matrix/HomeserverClient";
import { escapeHtml, Message, renderDecision } from "../rules/describe";
import { compileRules, decide } from "../rules/evaluate";
import { DefaultAction, RuleError } from "../model/rules";
import { Rota, RotaMember } from "../model/rota";
import { parseRotaCommand, RotaCommand } from "../rota/commands";
import { renderRotaHelp } from "../rota/help";
import { CalendarFeeds } from "../rota/CalendarFeeds";
import { calendarText, editText, membersText, plain, rotaSummary, rulesReply } from "../rota/replies";
import { NOT_A_ROTA, RotaService } from "../rota/RotaService";
import { shiftsText, whoText } from "../rota/shiftText";
import { Store } from "../store/Store";
import { joinedInJoinOrder, roomPower } from "./roomPower";

const log = logger("bot.rota");

const ENCRYPTED = "This room is end-to-end encrypted, and this bridge cannot take part in encrypted rooms. An on-call rota needs a room without encryption.";
const WELCOME = "Hello! I can make this room an on-call rota, so that calls to its address ring whoever is on call. Send rota help for the commands.";

export interface RotaRoomOptions {
  botUserId: MatrixUserId;
  /** The zone `rota` commands are read in before the room has a rota. */
  defaultTimeZone: string;
  bridgeDefault: DefaultAction;
  now: () => number;
  /** Rotas' calendar feeds (`rota calendar`). */
  calendars: CalendarFeeds;
}

/**
 * Rota rooms: a group room (not a DM) the bot is invited to, joins and stays
 * in, answering `rota …` messages there. Anyone in the room may read the
 * rota; changing it takes a power level at least the room's `state_default`,
 * read from the homeserver at each change, so a demotion counts at once.
 */
export class RotaRooms {
  constructor(
    private readonly homeserver: HomeserverClient,
    private readonly store: Store,
    private readonly rotas: RotaService,
    private readonly localUsers: LocalUsers,
    private readonly virtualUsers: VirtualUsers,
    private readonly options: RotaRoomOptions,
  ) {}

  async onInvite(roomId: RoomId, inviter: MatrixUserId): Promise<void> {
    const bot = this.options.botUserId;
    await this.homeserver.join(bot, roomId);
    if (await this.homeserver.stateEvent(bot, roomId, "m.room.encryption")) {
      await this.send(roomId, plain(ENCRYPTED), `encrypted.${roomId}`);
      await this.homeserver.leave(bot, roomId, "End-to-end encrypted rooms are not supported.").catch(() => undefined);
      return;
    }
    await this.store.rotas.putRotaRoom({ roomId, invitedBy: inviter, joinedAt: this.options.now() });
    log.info("joined a rota room", { roomId, invitedBy: inviter });
    await this.send(roomId, plain(WELCOME), `welcome.${roomId}`);
  }

  /** The bot left or was removed: it no longer answers there. The rota stays
   *  (a moderator can invite the bot again, or delete the rota first). */
  async onBotLeft(roomId: RoomId): Promise<void> {
    await this.store.rotas.deleteRotaRoom(roomId);
  }

  /** A text message in a room that is not a command DM. */
  async onMessage(event: TextMessage): Promise<void> {
    if (!/^\s*rota(\s|$)/i.test(event.body)) return;
    if (!(await this.store.rotas.getRotaRoom(event.roomId))) return;
    const reply = await this.run(event.roomId, event.sender, event.body);
    if (reply) await this.send(event.roomId, reply, `reply.${event.eventId}`);
  }

  /** Runs one `rota …` command; undefined when the text is no rota command. */
  async run(roomId: RoomId, sender: MatrixUserId, text: string): Promise<Message | undefined> {
    try {
      const rota = await this.rotas.byRoom(roomId);
      const now = this.options.now();
      const command = parseRotaCommand(text, {
        zone: rota?.rotation.zone ?? this.options.defaultTimeZone, now, sender,
        localUserOf: (address) => this.localUsers.userIdFor(address),
        isLocalUser: (userId) => this.localUsers.addressOf(userId) !== undefined,
      });
      if (!command) return undefined;
      if (command.kind === "calendar") return await this.calendar(roomId, sender, rota, command.reset, now);
      if (command.kind === "create" || command.kind === "delete" || command.kind === "edit") {
        const refusal = await this.refusal(roomId, sender);
        if (refusal) return plain(refusal);
        return await this.change(roomId, command, now);
      }
      return await this.read(roomId, rota, command, now);
    } catch (err) {
      if (err instanceof RuleError) return { body: err.message, html: escapeHtml(err.message) };
      log.error("a rota command failed", { roomId, sender, error: (err as Error).message });
      return plain("Sorry, that did not work; please try again.");
    }
  }

  private async read(roomId: RoomId, rota: Rota | undefined, command: Exclude<RotaCommand, { kind: "create" | "delete" | "edit" | "calendar" }>, now: number): Promise<Message> {
    if (command.kind === "help") {
      const help = renderRotaHelp();
      if (!rota) return help;
      const summary = plain(...rotaSummary(rota, this.rotas.address(rota), now));
      return { body: `${summary.body}\n\n${help.body}`, html: summary.html + help.html };
    }
    if (!rota) return plain(NOT_A_ROTA);
    switch (command.kind) {
      case "who": return plain(whoText(rota, await this.membersOf(rota), now));
      case "shifts": return plain(shiftsText(rota, await this.membersOf(rota), now, command.count));
      case "show_members": {
        if (rota.members !== null) return plain(`Members, in order: ${membersText(rota.members)}.`);
        const members = await this.membersOf(rota);
        return plain(`Members: ${membersText(null)}: ${membersText(members)}.`, "Set an order with rota members @alice:example.org @bob:example.org …");
      }
      case "show_rules": return rulesReply(rota);
      case "test_rules": {
        const facts = command.command.facts;
        const decision = decide(compileRules(rota.rules), facts, this.options.bridgeDefault);
        return renderDecision(decision, facts, rota.rules, this.options.bridgeDefault, rota.rotation.zone);
      }
    }
  }

  private async change(roomId: RoomId, command: Extract<RotaCommand, { kind: "create" | "delete" | "edit" }>, now: number): Promise<Message> {
    switch (command.kind) {
      case "create": {
        const rota = await this.rotas.create(roomId, command.name, now);
        log.info("created a rota", { roomId, name: rota.name });
        return plain(`Created the rota ${this.rotas.address(rota)}.`, ...rotaSummary(rota, this.rotas.address(rota), now).slice(1),
          "Send rota help to change any of it.");
      }
      case "delete": {
        const rota = await this.rotas.delete(roomId);
        log.info("deleted a rota", { roomId, name: rota.name });
        return plain(`Deleted the rota ${this.rotas.address(rota)}: calls to it now reach nobody. rota create makes this room a rota again.`);
      }
      case "edit": {
        const { after } = await this.rotas.edit(roomId, command.edit, now);
        return plain(editText(command.edit, after));
      }
    }
  }

  /** `rota calendar [reset]`: the feed's URL, in the room. Anyone who can
   *  read the rota may have it (it shows no more than `rota shifts`); reset,
   *  which breaks every subscription to the old URL, is a change. */
  private async calendar(roomId: RoomId, sender: MatrixUserId, rota: Rota | undefined, reset: boolean, now: number): Promise<Message> {
    if (!rota) return plain(NOT_A_ROTA);
    if (reset) {
      const refusal = await this.refusal(roomId, sender);
      if (refusal) return plain(refusal);
    }
    const feeds = this.options.calendars;
    const url = reset ? await feeds.reset(rota, now) : await feeds.urlFor(rota, now);
    if (!url) return plain(NOT_A_ROTA);
    return plain(calendarText(this.rotas.address(rota), url, reset));
  }

  /** Why `sender` may not change this room's rota, or undefined if they may. */
  private async refusal(roomId: RoomId, sender: MatrixUserId): Promise<string | undefined> {
    const power = roomPower(await this.homeserver.roomState(this.options.botUserId, roomId));
    const own = power.of(sender);
    if (own >= power.stateDefault) return undefined;
    return `Sorry, only members who can change this room's settings (power level ${power.stateDefault} here; yours is ${own}) can change the rota. `
      + "Anyone can read it: rota who, rota shifts, rota.";
  }

  /** The rotation order: the rota's own, or the room's joined users of this homeserver in join order. */
  private async membersOf(rota: Rota): Promise<RotaMember[]> {
    if (rota.members !== null) return rota.members;
    const state = await this.homeserver.roomState(this.options.botUserId, rota.roomId);
    return joinedInJoinOrder(state, (userId) => this.isBridgeUser(userId) || this.localUsers.addressOf(userId) === undefined)
      .map((userId) => ({ kind: "matrix", userId }));
  }

  private isBridgeUser(userId: MatrixUserId): boolean {
    return userId === this.options.botUserId || this.virtualUsers.isVirtual(userId);
  }

  private async send(roomId: RoomId, message: Message, txnId: string): Promise<void> {
    await this.homeserver.sendEvent(this.options.botUserId, roomId, "m.room.message", {
      msgtype: "m.notice", body: message.body, format: "org.matrix.custom.html", formatted_body: message.html,
    }, txnId);
  }
}
