/**
 * Builds /sync responses the way Synapse shapes them: per-user rooms (join/invite/leave), timelines
 * filtered by history visibility, state before the timeline, account data, ephemeral events and
 * to-device messages. Everything is computed synchronously so no event can slip in between building
 * a response and registering the long-poll waiter.
 */
import type { HomeserverCore } from "./core";
import { invalidParam } from "./errors";
import { syncEvent } from "./format";
import type { Room } from "./room";
import type { Rooms } from "./rooms";
import { membershipOf, type Json, type StoredEvent } from "./types";
import type { UserRecord } from "./users";

export interface SyncRequest {
  userId: string;
  deviceId: string;
  deviceKey: string;
  since: number | undefined;
  fullState: boolean;
  timelineLimit: number;
  includeLeave: boolean;
}

export interface SyncResult {
  body: Json;
  /** Nothing to report: a long poll should wait. */
  empty: boolean;
}

export function parseSyncToken(token: string | undefined): number | undefined {
  if (token === undefined || token === "") return undefined;
  const m = /^s(\d+)$/.exec(token);
  if (!m) throw invalidParam(`Invalid stream token: ${token}`);
  return parseInt(m[1]!, 10);
}

export const syncToken = (pos: number): string => `s${pos}`;

export function buildSync(core: HomeserverCore, rooms: Rooms, req: SyncRequest): SyncResult {
  const now = Date.now();
  const user = core.users.require(req.userId);
  const ctx = new SyncContext(core, rooms, req, now);
  const join: Json = {};
  const invite: Json = {};
  const leave: Json = {};

  for (const roomId of user.rooms) {
    const room = core.rooms.get(roomId);
    const memberEv = room?.member(req.userId);
    if (!room || !memberEv) continue;
    const membership = membershipOf(memberEv);
    if (membership === "join") {
      const r = ctx.joinedRoom(room, user);
      if (r) join[roomId] = r;
    } else if (membership === "invite") {
      if (req.since === undefined || memberEv.stream > req.since) {
        const events = [...(memberEv.inviteRoomState ?? []), syncEvent(memberEv, now, req.deviceKey)];
        invite[roomId] = { invite_state: { events } };
      }
    } else if (membership === "leave" || membership === "ban") {
      const r = ctx.leftRoom(room, memberEv);
      if (r) leave[roomId] = r;
    }
  }

  const body: Json = { next_batch: syncToken(core.streamPosition) };
  const accountData = [...user.accountData.values()]
    .filter((e) => req.since === undefined || e.stream > req.since)
    .map((e) => ({ type: e.type, content: e.content }));
  if (accountData.length) body["account_data"] = { events: accountData };

  const toDevice = takeToDevice(user, req);
  if (toDevice.length) body["to_device"] = { events: toDevice };

  // Synapse always includes these (clients rely on them even without encryption).
  body["device_one_time_keys_count"] = { signed_curve25519: 0 };
  body["org.matrix.msc2732.device_unused_fallback_key_types"] = [];
  body["device_unused_fallback_key_types"] = [];

  const roomsBody: Json = {};
  if (Object.keys(join).length) roomsBody["join"] = join;
  if (Object.keys(invite).length) roomsBody["invite"] = invite;
  if (Object.keys(leave).length) roomsBody["leave"] = leave;
  if (Object.keys(roomsBody).length) body["rooms"] = roomsBody;

  return { body, empty: !body["rooms"] && accountData.length === 0 && toDevice.length === 0 };
}

/** Messages up to `since` were seen by the client: drop them, return the rest for this device. */
function takeToDevice(user: UserRecord, req: SyncRequest): Json[] {
  if (req.since !== undefined) {
    const since = req.since;
    const keep = user.toDevice.filter((m) => !(m.deviceId === req.deviceId && m.stream <= since));
    user.toDevice.length = 0;
    user.toDevice.push(...keep);
  }
  return user.toDevice.filter((m) => m.deviceId === req.deviceId).map((m) => m.event);
}

class SyncContext {
  constructor(
    private readonly core: HomeserverCore,
    private readonly rooms: Rooms,
    private readonly req: SyncRequest,
    private readonly now: number,
  ) {}

  joinedRoom(room: Room, user: UserRecord): Json | undefined {
    const { since, fullState } = this.req;
    const joinedAtSince = since !== undefined && room.membershipBefore(user.userId, since + 1) === "join";
    let timeline: { events: StoredEvent[]; limited: boolean };
    let state: StoredEvent[];
    if (!joinedAtSince) {
      // Initial sync or newly joined: recent history and the full state before it.
      timeline = this.recent(room, -1, Number.MAX_SAFE_INTEGER);
      state = room.stateBefore(timeline.events[0]?.stream ?? room.lastStream + 1);
    } else {
      timeline = this.recent(room, since, Number.MAX_SAFE_INTEGER);
      const start = timeline.events[0]?.stream ?? room.lastStream + 1;
      state = fullState ? room.stateBefore(start) : timeline.limited ? room.stateChangedBetween(since, start) : [];
    }
    const ephemeral = this.ephemeral(room);
    const accountData = [...(user.roomAccountData.get(room.roomId)?.values() ?? [])]
      .filter((e) => !joinedAtSince || e.stream > since!)
      .map((e) => ({ type: e.type, content: e.content }));
    const changed = timeline.events.length || state.length || ephemeral.length || accountData.length;
    if (joinedAtSince && !fullState && !changed) return undefined;
    return {
      timeline: this.timelineJson(timeline),
      state: { events: state.map((e) => syncEvent(e, this.now, this.req.deviceKey)) },
      account_data: { events: accountData },
      ephemeral: { events: ephemeral },
      unread_notifications: { notification_count: 0, highlight_count: 0 },
      summary: {},
    };
  }

  /** A room the user left (or was kicked/banned from) since the last sync: events up to the leave. */
  leftRoom(room: Room, leaveEv: StoredEvent): Json | undefined {
    const { since } = this.req;
    if (since === undefined) {
      if (!this.req.includeLeave) return undefined;
    } else if (leaveEv.stream <= since) {
      return undefined;
    }
    const before = since === undefined ? undefined : room.membershipBefore(this.req.userId, since + 1);
    if (since !== undefined && before !== "join" && before !== "invite") return undefined;
    const timeline = this.recent(room, before === "join" ? since! : -1, leaveEv.stream);
    const start = timeline.events[0]?.stream ?? leaveEv.stream;
    const state = before === "join" && !timeline.limited ? [] : before === "join" ? room.stateChangedBetween(since!, start) : room.stateBefore(start);
    return {
      timeline: this.timelineJson(timeline),
      state: { events: state.map((e) => syncEvent(e, this.now, this.req.deviceKey)) },
      account_data: { events: [] },
    };
  }

  /** The last `limit` visible events in (after, upTo], and whether older visible ones were left out. */
  private recent(room: Room, after: number, upTo: number): { events: StoredEvent[]; limited: boolean } {
    const limit = this.req.timelineLimit;
    const first = after < 0 ? 0 : room.indexAfter(after);
    const picked: StoredEvent[] = [];
    let limited = false;
    for (let i = room.indexAfter(upTo) - 1; i >= first; i--) {
      const ev = room.events[i]!;
      if (!this.rooms.canSee(room, ev, this.req.userId)) continue;
      if (picked.length === limit) {
        limited = true;
        break;
      }
      picked.push(ev);
    }
    return { events: picked.reverse(), limited };
  }

  private timelineJson(t: { events: StoredEvent[]; limited: boolean }): Json {
    const firstStream = t.events[0]?.stream ?? this.core.streamPosition + 1;
    return {
      events: t.events.map((e) => syncEvent(e, this.now, this.req.deviceKey)),
      limited: t.limited,
      prev_batch: `s${firstStream - 1}`,
    };
  }

  private ephemeral(room: Room): Json[] {
    const since = this.req.since ?? -1;
    const out: Json[] = [];
    if (room.typingStream > since) {
      const userIds = [...room.typing.entries()].filter(([, exp]) => exp > this.now).map(([u]) => u);
      if (userIds.length || since >= 0) out.push({ type: "m.typing", content: { user_ids: userIds } });
    }
    const receipts: Json = {};
    let first = room.receipts.length;
    while (first > 0 && room.receipts[first - 1]!.stream > since) first--; // only the new ones, without a full scan
    for (const r of room.receipts.slice(first)) {
      const { userId, content, isPrivate } = r.value;
      if (isPrivate && userId !== this.req.userId) continue;
      mergeInto(receipts, content);
    }
    if (Object.keys(receipts).length) out.push({ type: "m.receipt", content: receipts });
    return out;
  }
}

function mergeInto(target: Json, src: Json): void {
  for (const [k, v] of Object.entries(src)) {
    const cur = target[k];
    if (v && typeof v === "object" && !Array.isArray(v) && cur && typeof cur === "object") mergeInto(cur as Json, v as Json);
    else target[k] = v;
  }
}
