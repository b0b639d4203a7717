/**
 * Room operations with Synapse's rules: createRoom presets, membership transitions as the
 * auth rules allow them (join rules, invites, kicks, bans, power levels), sending and redaction.
 */
import type { EventDraft, HomeserverCore } from "./core";
import { MatrixError, badJson, forbidden, invalidParam, notFound } from "./errors";
import { strippedEvent } from "./format";
import { newRoomId, parseId } from "./ids";
import { checkEventSize, checkProfileValue } from "./limits";
import { Room } from "./room";
import { membershipOf, type Json, type StoredEvent } from "./types";

/** Room version Synapse creates by default. */
export const DEFAULT_ROOM_VERSION = "10";

/** State Synapse copies into an invite ("room_prejoin_state" defaults), plus the inviter's member event. */
const PREJOIN_STATE_TYPES = [
  "m.room.create",
  "m.room.join_rules",
  "m.room.canonical_alias",
  "m.room.avatar",
  "m.room.encryption",
  "m.room.name",
  "m.room.topic",
];

interface Preset {
  joinRule: string;
  historyVisibility: string;
  inviteesHaveOps: boolean;
  guestCanJoin: boolean;
  powerOverride: Json;
}

const PRESETS: Record<string, Preset> = {
  private_chat: { joinRule: "invite", historyVisibility: "shared", inviteesHaveOps: false, guestCanJoin: true, powerOverride: { invite: 0 } },
  trusted_private_chat: { joinRule: "invite", historyVisibility: "shared", inviteesHaveOps: true, guestCanJoin: true, powerOverride: { invite: 0 } },
  // Synapse needs power 50 to start a call in a public room (handlers/room.py, PUBLIC_CHAT).
  public_chat: { joinRule: "public", historyVisibility: "shared", inviteesHaveOps: false, guestCanJoin: false, powerOverride: { events: { "m.call.invite": 50 } } },
};

/** Synapse's `_deepmerge_power_level_content`: nested objects (events, users) merge, other values replace. */
function deepMerge(base: Json, override: Json): Json {
  const merged: Json = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const existing = merged[key];
    merged[key] = isObject(existing) && isObject(value) ? deepMerge(existing, value) : value;
  }
  return merged;
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export interface MembershipRequest {
  sender: string;
  target: string;
  membership: "join" | "invite" | "leave" | "ban";
  /** Extra content from the client (reason, is_direct, per-room displayname...). */
  content?: Json;
  /** Distinguishes a kick from a self-leave when the auth rules differ. */
  action?: "kick" | "unban";
}

export class Rooms {
  constructor(private readonly core: HomeserverCore) {}

  get(roomId: string): Room | undefined {
    return this.core.rooms.get(roomId);
  }

  /** A room the requester may act in; unknown rooms read as "not in room" like Synapse. */
  requireRoom(roomId: string, userId: string): Room {
    const room = this.core.rooms.get(roomId);
    if (!room) throw forbidden(`User ${userId} not in room ${roomId}, and room previews are disabled`);
    return room;
  }

  resolveRoomIdOrAlias(idOrAlias: string): Room {
    if (idOrAlias.startsWith("#")) {
      const roomId = this.core.aliases.get(idOrAlias);
      if (!roomId) throw notFound(`Room alias ${idOrAlias} not found`);
      return this.core.rooms.get(roomId)!;
    }
    if (!parseId("!", idOrAlias)) throw invalidParam(`${idOrAlias} was not legal room ID or room alias`);
    const room = this.core.rooms.get(idOrAlias);
    if (!room) throw notFound("No known servers");
    return room;
  }

  createRoom(creator: string, body: Json): { room_id: string; room_alias?: string } {
    const visibility = body["visibility"] === "public" ? "public" : "private";
    const presetName = typeof body["preset"] === "string" ? body["preset"] : visibility === "public" ? "public_chat" : "private_chat";
    const preset = PRESETS[presetName];
    if (!preset) throw badJson(`Unknown preset ${presetName}`);
    const invites = Array.isArray(body["invite"]) ? (body["invite"] as unknown[]) : [];
    for (const i of invites) if (typeof i !== "string" || !parseId("@", i)) throw invalidParam(`Invalid user_id: ${String(i)}`);
    const initialState = Array.isArray(body["initial_state"]) ? (body["initial_state"] as Json[]) : [];
    const roomVersion = typeof body["room_version"] === "string" ? body["room_version"] : DEFAULT_ROOM_VERSION;

    let alias: string | undefined;
    if (typeof body["room_alias_name"] === "string") {
      alias = `#${body["room_alias_name"]}:${this.core.serverName}`;
      if (this.core.aliases.has(alias)) throw new MatrixError(400, "M_ROOM_IN_USE", "Room alias already taken");
    }

    const room = new Room(newRoomId(this.core.serverName));
    this.core.rooms.set(room.roomId, room);
    const send = (type: string, content: Json, stateKey = ""): StoredEvent =>
      this.persist(room, { type, sender: creator, content, state_key: stateKey });

    const creationContent = (body["creation_content"] ?? {}) as Json;
    send("m.room.create", { ...creationContent, creator, room_version: roomVersion });
    this.persistMembership(room, { sender: creator, target: creator, membership: "join" });

    let power: Json = {
      users: { [creator]: 100 } as Json,
      users_default: 0,
      events: {
        "m.room.name": 50,
        "m.room.power_levels": 100,
        "m.room.history_visibility": 100,
        "m.room.canonical_alias": 50,
        "m.room.avatar": 50,
        "m.room.tombstone": 100,
        "m.room.server_acl": 100,
        "m.room.encryption": 100,
      },
      events_default: 0,
      state_default: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: 50,
      historical: 100,
    };
    if (preset.inviteesHaveOps) for (const i of invites) (power["users"] as Json)[i as string] = 100;
    // The preset's override merges deeply; the client's replaces whole keys, as in Synapse.
    power = { ...deepMerge(power, preset.powerOverride), ...(body["power_level_content_override"] ?? {}) as Json };
    send("m.room.power_levels", power);

    if (alias) {
      this.core.aliases.set(alias, room.roomId);
      room.aliases.add(alias);
      room.appserviceInterest.clear();
      send("m.room.canonical_alias", { alias });
    }
    const inInitial = (type: string): boolean => initialState.some((e) => e["type"] === type && (e["state_key"] ?? "") === "");
    if (!inInitial("m.room.join_rules")) send("m.room.join_rules", { join_rule: preset.joinRule });
    if (!inInitial("m.room.history_visibility")) send("m.room.history_visibility", { history_visibility: preset.historyVisibility });
    if (preset.guestCanJoin && !inInitial("m.room.guest_access")) send("m.room.guest_access", { guest_access: "can_join" });
    for (const e of initialState) {
      if (typeof e["type"] !== "string") throw badJson("initial_state events need a type");
      send(e["type"], (e["content"] ?? {}) as Json, typeof e["state_key"] === "string" ? e["state_key"] : "");
    }
    if (typeof body["name"] === "string") send("m.room.name", { name: body["name"] });
    if (typeof body["topic"] === "string") send("m.room.topic", { topic: body["topic"] });
    for (const invitee of invites as string[]) {
      const content: Json = body["is_direct"] === true ? { is_direct: true } : {};
      this.changeMembership(room, { sender: creator, target: invitee, membership: "invite", content });
    }
    return alias ? { room_id: room.roomId, room_alias: alias } : { room_id: room.roomId };
  }

  /** Applies a membership change if the auth rules allow it. */
  changeMembership(room: Room, req: MembershipRequest): StoredEvent {
    const { sender, target, membership } = req;
    const senderMembership = room.membership(sender);
    const targetMembership = room.membership(target);
    const senderLevel = room.userLevel(sender);

    if (req.action === "unban" && targetMembership !== "ban") {
      throw new MatrixError(403, "M_BAD_STATE", `Cannot unban user who was not banned (membership=${targetMembership})`);
    }
    if (targetMembership === "ban" && membership !== "ban" && membership !== "leave") {
      throw new MatrixError(403, "M_BAD_STATE", `Cannot ${membership} user who was banned`);
    }
    if (req.action === "kick" && targetMembership !== "join" && targetMembership !== "invite") {
      throw forbidden("The target user is not in the room");
    }

    if (membership === "join") {
      if (sender !== target) throw forbidden("Cannot force another user to join.");
      const joinRule = room.getState("m.room.join_rules")?.content["join_rule"] ?? "invite";
      if (joinRule !== "public" && senderMembership !== "join" && senderMembership !== "invite") {
        throw forbidden("You are not invited to this room.");
      }
    } else {
      const selfLeaveFromInvite = membership === "leave" && sender === target && senderMembership === "invite";
      if (!selfLeaveFromInvite && senderMembership !== "join") throw forbidden(`${sender} not in room ${room.roomId}.`);
      if (membership === "invite") {
        if (targetMembership === "ban") throw forbidden(`${target} is banned from the room`);
        if (targetMembership === "join") throw forbidden(`${target} is already in the room.`);
        if (senderLevel < room.actionLevel("invite")) throw forbidden("You don't have permission to invite users");
      } else if (membership === "leave") {
        if (targetMembership === "ban" && senderLevel < room.actionLevel("ban")) throw forbidden(`You cannot unban user ${target}.`);
        if (target !== sender && (senderLevel < room.actionLevel("kick") || senderLevel <= room.userLevel(target))) {
          throw forbidden(`You cannot kick user ${target}.`);
        }
      } else if (membership === "ban") {
        if (senderLevel < room.actionLevel("ban") || senderLevel <= room.userLevel(target)) {
          throw forbidden("You don't have permission to ban");
        }
      }
    }
    return this.persistMembership(room, req);
  }

  private persistMembership(room: Room, req: MembershipRequest): StoredEvent {
    const content: Json = { ...(req.content ?? {}) };
    checkProfileValue("displayname", content["displayname"], "M_BAD_JSON");
    checkProfileValue("avatar_url", content["avatar_url"], "M_BAD_JSON");
    // Synapse fills the target's global profile into joins and invites unless the client set per-room values.
    if (req.membership === "join" || req.membership === "invite") {
      const profile = this.core.users.get(req.target);
      if (!("displayname" in content) && profile?.displayName !== undefined) content["displayname"] = profile.displayName;
      if (!("avatar_url" in content) && profile?.avatarUrl !== undefined) content["avatar_url"] = profile.avatarUrl;
    }
    content["membership"] = req.membership;
    const inviteRoomState = req.membership === "invite" ? this.strippedStateFor(room, req.sender) : undefined;
    return this.persist(room, {
      type: "m.room.member",
      sender: req.sender,
      content,
      state_key: req.target,
      ...(inviteRoomState ? { inviteRoomState } : {}),
    });
  }

  /** Every event this server creates passes Synapse's size limits first. */
  private persist(room: Room, draft: EventDraft): StoredEvent {
    checkEventSize(this.core.serverName, room.roomId, draft);
    return this.core.persist(room, draft);
  }

  strippedStateFor(room: Room, inviter: string): Json[] {
    const out: Json[] = [];
    for (const type of PREJOIN_STATE_TYPES) {
      const ev = room.getState(type);
      if (ev) out.push(strippedEvent(ev));
    }
    const inviterEv = room.member(inviter);
    if (inviterEv) out.push(strippedEvent(inviterEv));
    return out;
  }

  /** Sends a message-like or state event after the membership and power checks. */
  sendEvent(
    room: Room,
    sender: string,
    draft: { type: string; content: Json; state_key?: string; redacts?: string; txn?: { deviceKey: string; txnId: string } },
  ): StoredEvent {
    const isState = draft.state_key !== undefined;
    if (isState && draft.type === "m.room.member") {
      const membership = draft.content["membership"];
      if (membership !== "join" && membership !== "invite" && membership !== "leave" && membership !== "ban") {
        throw badJson("Invalid membership key");
      }
      const { membership: _m, ...rest } = draft.content;
      return this.changeMembership(room, { sender, target: draft.state_key!, membership, content: rest });
    }
    const senderMembership = room.membership(sender);
    if (senderMembership !== "join") throw forbidden(`User ${sender} not in room ${room.roomId} (${senderMembership ?? "None"})`);
    if (isState && draft.state_key!.startsWith("@") && draft.state_key !== sender) {
      throw forbidden("You are not allowed to set others state");
    }
    const userLevel = room.userLevel(sender);
    const needed = room.eventLevel(draft.type, isState);
    if (userLevel < needed) {
      throw forbidden(`You don't have permission to post that to the room. user_level (${userLevel}) < send_level (${needed})`);
    }
    if (isState) {
      // Synapse dedupes a state event identical to the current one from the same sender.
      const current = room.getState(draft.type, draft.state_key);
      if (current && current.sender === sender && sameJson(current.content, draft.content)) return current;
    }
    if (draft.redacts !== undefined) {
      const target = this.core.eventsById.get(draft.redacts);
      const own = target?.sender === sender;
      if (!own && userLevel < room.actionLevel("redact")) throw forbidden("You don't have permission to redact events");
    }
    return this.persist(room, { sender, ...draft });
  }

  /** A room member's view of which users are in which membership (for /members and friends). */
  membersAt(room: Room, userId: string): StoredEvent[] {
    const membership = room.membership(userId);
    if (membership === "join") return [...room.state.values()].filter((e) => e.type === "m.room.member");
    if (membership === "leave" || membership === "ban") {
      const leaveEv = room.member(userId)!;
      // A former member sees the room as it was when they left.
      return [...room.stateBefore(leaveEv.stream), leaveEv].filter((e) => e.type === "m.room.member");
    }
    throw forbidden(`User ${userId} not in room ${room.roomId}, and room previews are disabled`);
  }

  /** Current state for members, state at leave for former members (Synapse's GET /state rule). */
  stateFor(room: Room, userId: string): StoredEvent[] {
    const membership = room.membership(userId);
    if (membership === "join") return [...room.state.values()];
    if (membership === "leave" || membership === "ban") {
      const leaveEv = room.member(userId)!;
      const before = room.stateBefore(leaveEv.stream).filter((e) => !(e.type === "m.room.member" && e.state_key === userId));
      return [...before, leaveEv];
    }
    throw forbidden(`User ${userId} not in room ${room.roomId}, and room previews are disabled`);
  }

  /** Synapse's history visibility check for one event and one user. */
  canSee(room: Room, ev: StoredEvent, userId: string): boolean {
    let membership = room.membershipBefore(userId, ev.stream);
    if (ev.type === "m.room.member" && ev.state_key === userId) {
      // A user's own membership event is judged by the "most joined" of old and new membership.
      membership = mostJoined(membership, membershipOf(ev));
    }
    if (membership === "join") return true;
    const visibility = room.visibilityBefore(ev.stream);
    if (visibility === "world_readable") return true;
    if (visibility === "invited") return membership === "invite";
    if (visibility === "shared") return room.membership(userId) === "join";
    return false;
  }
}

const PRIORITY = ["join", "invite", "knock", "leave", "ban"];

function mostJoined(a: string | undefined, b: string): string {
  if (a === undefined) return b;
  return PRIORITY.indexOf(a) <= PRIORITY.indexOf(b) ? a : b;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Json)[k])]));
  }
  return v;
}
