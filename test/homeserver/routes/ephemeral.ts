/** Typing, receipts, read markers, presence and to-device messages. */
import { Router } from "express";
import { authenticate, type Requester } from "../auth";
import { forbidden } from "../errors";
import { body, param, route } from "../http";
import type { Room } from "../room";
import type { Json } from "../types";
import type { Deps } from "./deps";

export function ephemeralRouter({ core, rooms }: Deps): Router {
  const r = Router();
  const presence = new Map<string, Json>();

  const joinedRoom = (roomId: string, who: Requester): Room => {
    const room = rooms.requireRoom(roomId, who.userId);
    if (room.membership(who.userId) !== "join") throw forbidden(`User ${who.userId} not in room ${roomId}`);
    return room;
  };

  const setFullyRead = (who: Requester, roomId: string, eventId: string): void => {
    const user = core.users.require(who.userId);
    let t = user.roomAccountData.get(roomId);
    if (!t) user.roomAccountData.set(roomId, (t = new Map()));
    t.set("m.fully_read", { type: "m.fully_read", content: { event_id: eventId }, stream: core.nextStream() });
    core.notifier.wake(who.userId);
  };

  const addReceipt = (room: Room, who: Requester, type: string, eventId: string, threadId?: unknown): void => {
    const receipt: Json = { ts: Date.now() };
    if (typeof threadId === "string") receipt["thread_id"] = threadId;
    const content = { [eventId]: { [type]: { [who.userId]: receipt } } };
    room.receipts.push({ stream: core.nextStream(), value: { userId: who.userId, content, isPrivate: type === "m.read.private" } });
    core.wakeRoom(room);
  };

  route(r, "put", "/rooms/:roomId/typing/:userId", (req) => {
    const who = authenticate(core, req);
    if (who.userId !== param(req, "userId")) throw forbidden("Cannot set typing status for other users");
    const room = joinedRoom(param(req, "roomId"), who);
    const b = body(req);
    if (b["typing"] === true) room.typing.set(who.userId, Date.now() + (typeof b["timeout"] === "number" ? b["timeout"] : 30000));
    else room.typing.delete(who.userId);
    room.typingStream = core.nextStream();
    core.wakeRoom(room);
    return {};
  });

  route(r, "post", "/rooms/:roomId/receipt/:receiptType/:eventId", (req) => {
    const who = authenticate(core, req);
    const room = joinedRoom(param(req, "roomId"), who);
    const type = param(req, "receiptType");
    const b = body(req, true);
    if (type === "m.fully_read") setFullyRead(who, room.roomId, param(req, "eventId"));
    else addReceipt(room, who, type, param(req, "eventId"), b["thread_id"]);
    return {};
  });

  route(r, "post", "/rooms/:roomId/read_markers", (req) => {
    const who = authenticate(core, req);
    const room = joinedRoom(param(req, "roomId"), who);
    const b = body(req);
    if (typeof b["m.fully_read"] === "string") setFullyRead(who, room.roomId, b["m.fully_read"]);
    for (const type of ["m.read", "m.read.private"]) {
      if (typeof b[type] === "string") addReceipt(room, who, type, b[type] as string);
    }
    return {};
  });

  route(r, "put", "/presence/:userId/status", (req) => {
    const who = authenticate(core, req);
    if (who.userId !== param(req, "userId")) throw forbidden("Can only set your own presence state");
    presence.set(who.userId, { ...body(req), last_active_ago: 0 });
    return {};
  });

  route(r, "get", "/presence/:userId/status", (req) => {
    authenticate(core, req);
    return presence.get(param(req, "userId")) ?? { presence: "offline" };
  });

  route(r, "put", "/sendToDevice/:type/:txnId", (req) => {
    const who = authenticate(core, req);
    const txnKey = `${who.deviceKey}|toDevice|${param(req, "txnId")}`;
    if (core.txnEvents.has(txnKey)) return {};
    core.txnEvents.set(txnKey, "");
    const messages = (body(req)["messages"] ?? {}) as Record<string, Record<string, Json>>;
    for (const [userId, byDevice] of Object.entries(messages)) {
      const user = core.users.get(userId);
      if (!user) continue;
      for (const [deviceId, content] of Object.entries(byDevice)) {
        const targets = deviceId === "*" ? [...user.devices] : user.devices.has(deviceId) ? [deviceId] : [];
        for (const d of targets) {
          user.toDevice.push({ stream: core.nextStream(), deviceId: d, event: { type: param(req, "type"), sender: who.userId, content } });
        }
      }
      core.notifier.wake(userId);
    }
    return {};
  });

  return r;
}
