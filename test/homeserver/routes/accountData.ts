/** Global and per-room account data, and sync filters. */
import { Router } from "express";
import { authenticate } from "../auth";
import { forbidden, invalidParam, notFound } from "../errors";
import { body, param, route } from "../http";
import { parseId } from "../ids";
import type { Json } from "../types";
import type { AccountDataEntry } from "../users";
import type { Deps } from "./deps";

export function accountDataRouter({ core }: Deps): Router {
  const r = Router();

  const ownUser = (req: Parameters<typeof authenticate>[1], what: string) => {
    const who = authenticate(core, req);
    if (who.userId !== param(req, "userId")) throw forbidden(`Cannot ${what} for other users.`);
    return core.users.require(who.userId);
  };

  const roomTable = (user: ReturnType<typeof ownUser>, roomId: string): Map<string, AccountDataEntry> => {
    if (!parseId("!", roomId)) throw invalidParam(`${roomId} is not a valid room ID`);
    let t = user.roomAccountData.get(roomId);
    if (!t) user.roomAccountData.set(roomId, (t = new Map()));
    return t;
  };

  const store = (table: Map<string, AccountDataEntry>, userId: string, type: string, content: Json): Json => {
    table.set(type, { type, content, stream: core.nextStream() });
    core.notifier.wake(userId);
    return {};
  };

  route(r, "put", "/user/:userId/account_data/:type", (req) => {
    const user = ownUser(req, "add account data");
    return store(user.accountData, user.userId, param(req, "type"), body(req));
  });

  route(r, "get", "/user/:userId/account_data/:type", (req) => {
    const user = ownUser(req, "get account data");
    const e = user.accountData.get(param(req, "type"));
    if (!e) throw notFound("Account data not found");
    return e.content;
  });

  route(r, "put", "/user/:userId/rooms/:roomId/account_data/:type", (req) => {
    const user = ownUser(req, "add account data");
    return store(roomTable(user, param(req, "roomId")), user.userId, param(req, "type"), body(req));
  });

  route(r, "get", "/user/:userId/rooms/:roomId/account_data/:type", (req) => {
    const user = ownUser(req, "get account data");
    const e = roomTable(user, param(req, "roomId")).get(param(req, "type"));
    if (!e) throw notFound("Room account data not found");
    return e.content;
  });

  route(r, "post", "/user/:userId/filter", (req) => {
    const user = ownUser(req, "create filters");
    user.filters.push(body(req));
    return { filter_id: String(user.filters.length - 1) };
  });

  route(r, "get", "/user/:userId/filter/:filterId", (req) => {
    const user = ownUser(req, "get filters");
    const f = user.filters[Number(param(req, "filterId"))];
    if (!f) throw notFound("No such filter");
    return f;
  });

  return r;
}
