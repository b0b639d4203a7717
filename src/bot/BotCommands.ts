import { logger } from "../log";
import { LocalUsers } from "../ids/localUsers";
import { MatrixUserId, RoomId } from "../ids/matrix";
import { VirtualUsers } from "../ids/virtualUsers";
import { MatrixEvent } from "../matrix/events/types";
import { HomeserverClient } from "../matrix/HomeserverClient";
import { parseCommand } from "../rules/commands";
import { escapeHtml, renderDecision, renderEditResult, renderHelp, renderRules } from "../rules/describe";
import { RulesService } from "../rules/RulesService";
import { DefaultAction, RuleError } from "../model/rules";
import { RotaName } from "../model/rota";
import { Store } from "../store/Store";
import { rotaHelpPointer, renderRotaHelp } from "../rota/help";
import { CalendarFeeds } from "../rota/CalendarFeeds";
import { RotaService } from "../rota/RotaService";
import { serverOfUser } from "../ids/matrix";
import { UserDirectory } from "../matrix/UserDirectory";
import { linkReply, sendQrCode, welcomeLine } from "./callLink";
import { RotaRooms } from "./RotaRooms";

const log = logger("bot");

const ENCRYPTED_BOT_ROOM = "This room is end-to-end encrypted, and this bridge cannot take part in encrypted rooms. Start a new direct chat without encryption to manage your call rules.";

interface Reply {
  body: string;
  html: string;
  /** A link whose QR code image follows the reply (`link`). */
  qrFor?: string;
}

export interface BotOptions {
  botUserId: MatrixUserId;
  bridgeDefault: DefaultAction;
  bridgeTimeZone: string;
  now: () => number;
  /** Most rules a rota may have, as for a user (config rules.maxRulesPerUser); default 1000. */
  maxRules?: number;
  /** Rotas' calendar feeds (`rota calendar`). */
  calendars: CalendarFeeds;
  /** Where users' call links point (src/webcall/callPage/link.ts); absent when the page is not served. */
  callLinkBase?: string;
  /** Told after a rota was created, changed or deleted, here or over the API (the handover announcer). */
  onRotaChange?(name: RotaName): void;
}

/** The DM's `help`: the rule commands, then where rotas are managed. */
function dmHelp(): Reply {
  const rules = renderHelp();
  const rota = rotaHelpPointer();
  return { body: `${rules.body}\n${rota.body}`, html: rules.html + rota.html };
}

/**
 * The bridge bot: a user of this homeserver opens a DM with it and manages
 * their rules with commands (`help`, `rules`, `allow …`, `test …`). Only the
 * user who opened the DM is listened to, and only users of this homeserver
 * (the ones who can be called here) can open one. Invited to a group room
 * instead, it stays there and answers `rota …` (RotaRooms).
 */
export class BotCommands {
  readonly rotaRooms: RotaRooms;
  /** The one RotaService, shared with the provisioning API. */
  readonly rotas: RotaService;

  constructor(
    private readonly homeserver: HomeserverClient,
    private readonly store: Store,
    private readonly rules: RulesService,
    private readonly localUsers: LocalUsers,
    private readonly virtualUsers: VirtualUsers,
    private readonly options: BotOptions,
  ) {
    const domain = serverOfUser(options.botUserId);
    const users = new UserDirectory(homeserver);
    const rotas = this.rotas = new RotaService(store.rotas, {
      domain, defaultTimeZone: options.bridgeTimeZone, maxRules: options.maxRules ?? 1000, onChange: options.onRotaChange,
      nameProblem: async (name) => {
        const userId = `@${name}:${domain}` as MatrixUserId;
        if (userId === options.botUserId) return "it is the bridge bot's name";
        if (virtualUsers.isVirtual(userId)) return "names with that start are the bridge's own users";
        if (await users.exists(userId)) return "a user of this homeserver has that name";
        return undefined;
      },
    });
    this.rotaRooms = new RotaRooms(homeserver, store, rotas, localUsers, virtualUsers, {
      botUserId: options.botUserId, defaultTimeZone: options.bridgeTimeZone, bridgeDefault: options.bridgeDefault, now: options.now,
      calendars: options.calendars,
    });
  }

  /** Invites of the bot, its rooms' memberships, and text messages (m.text)
   *  from real users; typed and checked at the Matrix edge (src/matrix/events/). */
  isRelevant(event: MatrixEvent): boolean {
    if (this.virtualUsers.isVirtual(event.sender) || event.sender === this.options.botUserId) return false;
    if (event.type === "m.room.member") return event.target === this.options.botUserId || event.membership === "leave";
    return event.type === "m.room.message";
  }

  async onEvent(event: MatrixEvent): Promise<void> {
    const { roomId } = event;
    if (event.type === "m.room.member") {
      if (event.target === this.options.botUserId && event.membership === "invite") {
        return this.onInvite(roomId, event.sender, event.isDirect);
      }
      if (event.target === this.options.botUserId && (event.membership === "leave" || event.membership === "ban")) {
        await this.rotaRooms.onBotLeft(roomId);
      }
      if (event.membership === "leave") return this.onLeave(roomId, event.target);
      return;
    }
    if (event.type !== "m.room.message") return;
    const room = await this.store.getBotRoom(roomId);
    if (!room) return this.rotaRooms.onMessage(event);
    if (room.userId !== event.sender) return;
    const reply = await this.run(room.userId, event.body);
    await this.reply(roomId, reply, `reply.${event.eventId}`);
    if (reply.qrFor) await sendQrCode(this.homeserver, this.options.botUserId, roomId, reply.qrFor, `qr.${event.eventId}`);
  }

  /** Runs one command for `userId`; a command that cannot be understood or applied gets its reason back. */
  async run(userId: MatrixUserId, text: string): Promise<Reply> {
    try {
      // Rotas are rooms' business, not one user's: point at where they live.
      if (/^\s*rota(\s|$)/i.test(text)) {
        const pointer = rotaHelpPointer();
        const help = renderRotaHelp();
        return { body: `${pointer.body}\n${help.body}`, html: pointer.html + help.html };
      }
      const current = await this.rules.get(userId);
      const command = parseCommand(text, { timeZone: this.rules.timeZoneOf(current), now: this.options.now() });
      switch (command.kind) {
        case "help": return dmHelp();
        case "rules": return renderRules(current, this.options.bridgeDefault, this.options.bridgeTimeZone);
        case "link": {
          const decision = await this.rules.decide(userId, { caller: null, verified: false, at: this.options.now() });
          return linkReply(this.options.callLinkBase, userId, decision.action === "ring");
        }
        case "edit": return renderEditResult(command.edit, await this.rules.edit(userId, command.edit), this.options.bridgeDefault, this.options.bridgeTimeZone);
        case "test": {
          const decision = await this.rules.decide(userId, command.facts);
          return renderDecision(decision, command.facts, current, this.options.bridgeDefault, this.rules.timeZoneOf(current));
        }
      }
    } catch (err) {
      if (err instanceof RuleError) return { body: err.message, html: escapeHtml(err.message) };
      log.error("a bot command failed", { userId, error: (err as Error).message });
      return { body: "Sorry, that did not work; please try again.", html: "Sorry, that did not work; please try again." };
    }
  }

  private async onInvite(roomId: RoomId, inviter: MatrixUserId, isDirect: boolean): Promise<void> {
    const bot = this.options.botUserId;
    if (!this.localUsers.addressOf(inviter)) {
      return this.leave(roomId, "Only users of this homeserver have rules to manage here.");
    }
    // A room not marked as a DM is a team's: it may become an on-call rota.
    if (!isDirect) return this.rotaRooms.onInvite(roomId, inviter);
    await this.homeserver.join(bot, roomId);
    if (await this.homeserver.stateEvent(bot, roomId, "m.room.encryption")) {
      await this.homeserver.sendEvent(bot, roomId, "m.room.message", { msgtype: "m.notice", body: ENCRYPTED_BOT_ROOM });
      return this.leave(roomId, "End-to-end encrypted rooms are not supported.");
    }
    const members = await this.homeserver.joinedMembers(bot, roomId);
    if (members.length !== 2 || !members.includes(inviter)) {
      return this.leave(roomId, "I only take commands in a direct chat with one person.");
    }
    await this.store.putBotRoom(roomId, inviter);
    log.info("opened a command DM", { roomId, userId: inviter });
    const help = dmHelp();
    const link = welcomeLine(this.options.callLinkBase, inviter);
    await this.reply(roomId, link ? { body: `${link.body}\n${help.body}`, html: link.html + help.html } : help, `welcome.${roomId}`);
  }

  private async onLeave(roomId: RoomId, userId: string): Promise<void> {
    const room = await this.store.getBotRoom(roomId);
    if (!room || room.userId !== userId) return;
    await this.store.deleteBotRoom(roomId);
    await this.homeserver.leave(this.options.botUserId, roomId).catch(() => undefined);
  }

  private async leave(roomId: RoomId, reason: string): Promise<void> {
    await this.homeserver.leave(this.options.botUserId, roomId, reason).catch(() => undefined);
  }

  private async reply(roomId: RoomId, reply: Reply, txnId: string): Promise<void> {
    await this.homeserver.sendEvent(this.options.botUserId, roomId, "m.room.message", {
      msgtype: "m.notice", body: reply.body, format: "org.matrix.custom.html", formatted_body: reply.html,
    }, txnId);
  }
}
