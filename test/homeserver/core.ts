/**
 * The server's state and its one write path for room events: persist() assigns the stream position,
 * updates the room, then wakes long polls, queues appservice pushes and tells test observers.
 */
import { EventEmitter } from "node:events";
import http from "node:http";
import { Appservice } from "./appservices";
import { AppserviceLink } from "./appserviceLink";
import { plainEvent } from "./format";
import { newEventId } from "./ids";
import { Notifier } from "./notifier";
import { Room } from "./room";
import { UserStore } from "./users";
import type { AppserviceRegistrationLike, Json, StoredEvent } from "./types";

export interface EventDraft {
  type: string;
  sender: string;
  content: Json;
  state_key?: string;
  redacts?: string;
  txn?: { deviceKey: string; txnId: string };
  inviteRoomState?: Json[];
}

export class HomeserverCore extends EventEmitter {
  readonly users: UserStore;
  /** While set, every client-server request has its connection dropped (the server is "down"). */
  unreachable = false;
  /** Users every request about whom has its connection dropped: to a bridge
   *  looking one up, the same failed lookup as a server that is down. */
  readonly unreachableUsers = new Set<string>();
  readonly rooms = new Map<string, Room>();
  /** "#alias:server" -> room id. */
  readonly aliases = new Map<string, string>();
  readonly eventsById = new Map<string, StoredEvent>();
  /** Send idempotency: transaction key -> event id (Synapse keys by path + device or appservice). */
  readonly txnEvents = new Map<string, string>();
  readonly appservices = new Map<string, Appservice>();
  private readonly asByToken = new Map<string, Appservice>();
  readonly links = new Map<string, AppserviceLink>();
  readonly notifier = new Notifier();
  readonly agent = new http.Agent({ keepAlive: true });
  private stream = 0;

  constructor(
    readonly serverName: string,
    private readonly legacyAccessTokenPush: boolean,
  ) {
    super();
    this.users = new UserStore(serverName);
  }

  get streamPosition(): number {
    return this.stream;
  }

  /** Advances the server-wide stream for non-event changes (account data, typing, receipts, to-device). */
  nextStream(): number {
    return ++this.stream;
  }

  registerAppservice(reg: AppserviceRegistrationLike): void {
    const as = new Appservice(reg, this.serverName);
    this.appservices.set(reg.id, as);
    this.asByToken.set(reg.as_token, as);
    this.links.get(reg.id)?.stop();
    this.links.set(reg.id, new AppserviceLink(as, { agent: this.agent, legacyAccessTokenPush: this.legacyAccessTokenPush }));
    // Synapse creates the appservice's sender user itself.
    if (!this.users.get(as.senderId)) this.users.create(reg.sender_localpart);
  }

  appserviceByToken(token: string): Appservice | undefined {
    return this.asByToken.get(token);
  }

  persist(room: Room, draft: EventDraft): StoredEvent {
    const ev: StoredEvent = {
      event_id: newEventId(),
      type: draft.type,
      room_id: room.roomId,
      sender: draft.sender,
      origin_server_ts: Date.now(),
      content: draft.content,
      stream: this.nextStream(),
    };
    if (draft.state_key !== undefined) ev.state_key = draft.state_key;
    if (draft.redacts !== undefined) ev.redacts = draft.redacts;
    if (draft.txn) ev.txn = draft.txn;
    if (draft.inviteRoomState) ev.inviteRoomState = draft.inviteRoomState;

    room.append(ev);
    this.eventsById.set(ev.event_id, ev);
    if (ev.type === "m.room.member" && ev.state_key !== undefined) {
      this.users.roomsOf(ev.state_key).add(room.roomId);
      this.notifier.wake(ev.state_key); // reaches the invitee / the user who just left
    }
    if (ev.redacts !== undefined) {
      const target = this.eventsById.get(ev.redacts);
      if (target && target.room_id === room.roomId && !target.redactedBy) target.redactedBy = ev;
    }
    for (const u of room.joined) this.notifier.wake(u);
    for (const link of this.links.values()) {
      if (link.appservice.isInterestedInEvent(ev, room)) link.enqueue(ev);
    }
    if (this.listenerCount("event") > 0) this.emit("event", plainEvent(ev));
    return ev;
  }

  /** If an appservice claims an unknown alias, asks it to create the room first (Synapse's alias query). */
  async ensureAlias(alias: string): Promise<void> {
    if (this.aliases.has(alias)) return;
    for (const link of this.links.values()) {
      if (!link.appservice.isAliasInNamespace(alias)) continue;
      if ((await link.queryAlias(alias)) && this.aliases.has(alias)) return;
    }
  }

  /** Wakes every joined member of a room (ephemeral changes). */
  wakeRoom(room: Room): void {
    for (const u of room.joined) this.notifier.wake(u);
  }

  stop(): void {
    this.notifier.close();
    for (const link of this.links.values()) link.stop();
    this.agent.destroy();
  }
}
