/** Room aliases (the directory), with appservice alias namespaces and alias queries. */
import { Router } from "express";
import { authenticate } from "../auth";
import { MatrixError, forbidden, invalidParam, notFound } from "../errors";
import { body, param, requireString, route } from "../http";
import { parseId } from "../ids";
import type { Deps } from "./deps";

export function directoryRouter({ core, rooms }: Deps): Router {
  const r = Router();

  const localAlias = (alias: string): string => {
    const p = parseId("#", alias);
    if (!p) throw invalidParam(`${alias} is not a valid room alias`);
    if (p.server !== core.serverName) throw invalidParam("Room alias must be local");
    return alias;
  };

  route(r, "get", "/directory/room/:alias", async (req) => {
    const alias = param(req, "alias");
    await core.ensureAlias(alias);
    const roomId = core.aliases.get(alias);
    if (!roomId) throw notFound(`Room alias ${alias} not found`);
    return { room_id: roomId, servers: [core.serverName] };
  });

  route(r, "put", "/directory/room/:alias", (req) => {
    const who = authenticate(core, req);
    const alias = localAlias(param(req, "alias"));
    const roomId = requireString(body(req), "room_id");
    for (const as of core.appservices.values()) {
      if (as !== who.appservice && as.isAliasInNamespace(alias) && as.reg.namespaces.aliases?.some((n) => n.exclusive && new RegExp(`^(?:${n.regex})`).test(alias))) {
        throw new MatrixError(400, "M_EXCLUSIVE", "This alias is reserved by an application service.");
      }
    }
    if (core.aliases.has(alias)) throw new MatrixError(409, "M_UNKNOWN", `Room alias ${alias} already exists`);
    const room = rooms.requireRoom(roomId, who.userId);
    core.aliases.set(alias, room.roomId);
    room.aliases.add(alias);
    room.appserviceInterest.clear();
    return {};
  });

  route(r, "delete", "/directory/room/:alias", (req) => {
    const who = authenticate(core, req);
    const alias = localAlias(param(req, "alias"));
    const roomId = core.aliases.get(alias);
    if (!roomId) throw notFound("Room alias not found");
    const room = core.rooms.get(roomId)!;
    if (!who.appservice && room.userLevel(who.userId) < room.eventLevel("m.room.canonical_alias", true)) {
      throw forbidden("You don't have permission to delete the alias.");
    }
    core.aliases.delete(alias);
    room.aliases.delete(alias);
    room.appserviceInterest.clear();
    return {};
  });

  route(r, "get", "/rooms/:roomId/aliases", (req) => {
    const who = authenticate(core, req);
    const room = rooms.requireRoom(param(req, "roomId"), who.userId);
    if (room.membership(who.userId) !== "join") throw forbidden("You are not in the room");
    return { aliases: [...room.aliases] };
  });

  route(r, "get", "/directory/list/room/:roomId", () => ({ visibility: "private" }));
  route(r, "put", "/directory/list/room/:roomId", () => ({}));
  route(r, "put", "/directory/list/appservice/:networkId/:roomId", () => ({}));

  return r;
}
