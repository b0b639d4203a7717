/** Room endpoints: create, membership, send, state, redaction and reads (members, messages, events). */
import { Router, type Request } from "express";
import { authenticate, type Requester } from "../auth";
import { MatrixError, forbidden, invalidParam, notFound } from "../errors";
import { restEvent } from "../format";
import { body, param, requireString, route } from "../http";
import { parseId } from "../ids";
import type { Room } from "../room";
import { parseSyncToken } from "../sync";
import { membershipOf, type Json, type StoredEvent } from "../types";
import type { Deps } from "./deps";

export function roomsRouter(deps: Deps): Router {
  const { core, rooms } = deps;
  const r = Router();

  const reasonOnly = (b: Json): Json => (typeof b["reason"] === "string" ? { reason: b["reason"] } : {});
  const targetUser = (b: Json): string => {
    const u = requireString(b, "user_id");
    if (!parseId("@", u)) throw invalidParam(`Invalid user_id: ${u}`);
    return u;
  };

  /** Runs a send once per transaction: a retried txnId answers with the first event_id. */
  const once = (who: Requester, key: string, send: () => StoredEvent): Json => {
    const txnKey = `${who.deviceKey}|${key}`;
    const existing = core.txnEvents.get(txnKey);
    if (existing) return { event_id: existing };
    const ev = send();
    core.txnEvents.set(txnKey, ev.event_id);
    return { event_id: ev.event_id };
  };

  const roomFor = (req: Request, who: Requester): Room => rooms.requireRoom(param(req, "roomId"), who.userId);

  route(r, "post", "/createRoom", (req) => {
    const who = authenticate(core, req);
    return rooms.createRoom(who.userId, body(req, true));
  });

  const join = (req: Request, room: Room, who: Requester): Json => {
    rooms.changeMembership(room, { sender: who.userId, target: who.userId, membership: "join", content: reasonOnly(body(req, true)) });
    return { room_id: room.roomId };
  };
  route(r, "post", "/rooms/:roomId/join", (req) => {
    const who = authenticate(core, req);
    return join(req, rooms.resolveRoomIdOrAlias(param(req, "roomId")), who);
  });
  route(r, "post", "/join/:roomIdOrAlias", async (req) => {
    const who = authenticate(core, req);
    const idOrAlias = param(req, "roomIdOrAlias");
    if (idOrAlias.startsWith("#")) await deps.core.ensureAlias(idOrAlias);
    return join(req, rooms.resolveRoomIdOrAlias(idOrAlias), who);
  });

  route(r, "post", "/rooms/:roomId/invite", (req) => {
    const who = authenticate(core, req);
    const b = body(req);
    if ("id_server" in b || "medium" in b) throw forbidden("Third party invites are not supported");
    rooms.changeMembership(roomFor(req, who), { sender: who.userId, target: targetUser(b), membership: "invite", content: reasonOnly(b) });
    return {};
  });

  route(r, "post", "/rooms/:roomId/leave", (req) => {
    const who = authenticate(core, req);
    rooms.changeMembership(roomFor(req, who), { sender: who.userId, target: who.userId, membership: "leave", content: reasonOnly(body(req, true)) });
    return {};
  });

  route(r, "post", "/rooms/:roomId/forget", (req) => {
    const who = authenticate(core, req);
    const room = roomFor(req, who);
    const m = room.membership(who.userId);
    if (m === "join" || m === "invite") throw new MatrixError(400, "M_UNKNOWN", `User ${who.userId} is in room ${room.roomId}`);
    core.users.require(who.userId).rooms.delete(room.roomId);
    return {};
  });

  for (const [action, membership] of [["kick", "leave"], ["ban", "ban"], ["unban", "leave"]] as const) {
    route(r, "post", `/rooms/:roomId/${action}`, (req) => {
      const who = authenticate(core, req);
      const b = body(req);
      rooms.changeMembership(roomFor(req, who), {
        sender: who.userId,
        target: targetUser(b),
        membership,
        content: reasonOnly(b),
        ...(action === "ban" ? {} : { action }),
      });
      return {};
    });
  }

  route(r, "put", "/rooms/:roomId/send/:type/:txnId", (req) => {
    const who = authenticate(core, req);
    const room = roomFor(req, who);
    const type = param(req, "type");
    const txnId = param(req, "txnId");
    const content = body(req);
    return once(who, `send|${room.roomId}|${type}|${txnId}`, () =>
      rooms.sendEvent(room, who.userId, { type, content, ...(who.deviceId ? { txn: { deviceKey: who.deviceKey, txnId } } : {}) }),
    );
  });

  route(r, "put", "/rooms/:roomId/redact/:eventId/:txnId", (req) => {
    const who = authenticate(core, req);
    const room = roomFor(req, who);
    const eventId = param(req, "eventId");
    const txnId = param(req, "txnId");
    const content = reasonOnly(body(req, true));
    return once(who, `redact|${room.roomId}|${eventId}|${txnId}`, () =>
      rooms.sendEvent(room, who.userId, { type: "m.room.redaction", content, redacts: eventId }),
    );
  });

  const putState = (req: Request): Json => {
    const who = authenticate(core, req);
    const ev = rooms.sendEvent(roomFor(req, who), who.userId, {
      type: param(req, "type"),
      state_key: param(req, "stateKey"),
      content: body(req),
    });
    return { event_id: ev.event_id };
  };
  route(r, "put", "/rooms/:roomId/state/:type", putState);
  route(r, "put", "/rooms/:roomId/state/:type/:stateKey", putState);

  route(r, "get", "/rooms/:roomId/state", (req) => {
    const who = authenticate(core, req);
    const now = Date.now();
    return rooms.stateFor(roomFor(req, who), who.userId).map((e) => restEvent(e, now));
  });

  const getState = (req: Request): Json => {
    const who = authenticate(core, req);
    const type = param(req, "type");
    const stateKey = param(req, "stateKey");
    const ev = rooms.stateFor(roomFor(req, who), who.userId).find((e) => e.type === type && e.state_key === stateKey);
    if (!ev) throw notFound("Event not found.");
    return req.query["format"] === "event" ? (restEvent(ev) as unknown as Json) : ev.content;
  };
  route(r, "get", "/rooms/:roomId/state/:type", getState);
  route(r, "get", "/rooms/:roomId/state/:type/:stateKey", getState);

  route(r, "get", "/rooms/:roomId/members", (req) => {
    const who = authenticate(core, req);
    const only = typeof req.query["membership"] === "string" ? req.query["membership"] : undefined;
    const not = typeof req.query["not_membership"] === "string" ? req.query["not_membership"] : undefined;
    const now = Date.now();
    const chunk = rooms
      .membersAt(roomFor(req, who), who.userId)
      .filter((e) => (only === undefined || membershipOf(e) === only) && (not === undefined || membershipOf(e) !== not))
      .map((e) => restEvent(e, now));
    return { chunk };
  });

  route(r, "get", "/rooms/:roomId/joined_members", (req) => {
    const who = authenticate(core, req);
    const room = roomFor(req, who);
    if (room.membership(who.userId) !== "join") throw forbidden(`User ${who.userId} not in room ${room.roomId}, and room previews are disabled`);
    const joined: Json = {};
    for (const u of room.joined) {
      const c = room.member(u)!.content;
      joined[u] = { display_name: c["displayname"] ?? null, avatar_url: c["avatar_url"] ?? null };
    }
    return { joined };
  });

  route(r, "get", "/joined_rooms", (req) => {
    const who = authenticate(core, req);
    const user = core.users.require(who.userId);
    return { joined_rooms: [...user.rooms].filter((id) => core.rooms.get(id)?.membership(who.userId) === "join") };
  });

  route(r, "get", "/rooms/:roomId/event/:eventId", (req) => {
    const who = authenticate(core, req);
    const room = roomFor(req, who);
    const ev = core.eventsById.get(param(req, "eventId"));
    if (!ev || ev.room_id !== room.roomId || !rooms.canSee(room, ev, who.userId)) throw notFound("Event not found.");
    return restEvent(ev) as unknown as Json;
  });

  route(r, "get", "/rooms/:roomId/messages", (req) => {
    const who = authenticate(core, req);
    const room = roomFor(req, who);
    const m = room.membership(who.userId);
    if (m !== "join" && m !== "leave" && m !== "ban") throw forbidden(`User ${who.userId} not in room ${room.roomId}, and room previews are disabled`);
    // A former member pages only up to the moment they left.
    const ceiling = m === "join" ? Number.MAX_SAFE_INTEGER : room.member(who.userId)!.stream;
    const dir = req.query["dir"] === "f" ? "f" : "b";
    const limit = Math.max(0, Math.min(1000, Number(req.query["limit"] ?? 10) || 10));
    const fromQ = typeof req.query["from"] === "string" ? req.query["from"] : undefined;
    const from = parseSyncToken(fromQ) ?? (dir === "b" ? core.streamPosition : 0);
    const chunk: StoredEvent[] = [];
    let more = false;
    if (dir === "b") {
      for (let i = room.indexAfter(Math.min(from, ceiling)) - 1; i >= 0; i--) {
        const ev = room.events[i]!;
        if (!rooms.canSee(room, ev, who.userId)) continue;
        if (chunk.length === limit) { more = true; break; }
        chunk.push(ev);
      }
    } else {
      for (let i = room.indexAfter(from); i < room.events.length; i++) {
        const ev = room.events[i]!;
        if (ev.stream > ceiling) break;
        if (!rooms.canSee(room, ev, who.userId)) continue;
        if (chunk.length === limit) { more = true; break; }
        chunk.push(ev);
      }
    }
    const now = Date.now();
    const out: Json = { chunk: chunk.map((e) => restEvent(e, now)), start: fromQ ?? `s${from}` };
    const last = chunk[chunk.length - 1];
    if (more && last) out["end"] = `s${dir === "b" ? last.stream - 1 : last.stream}`;
    return out;
  });

  return r;
}
