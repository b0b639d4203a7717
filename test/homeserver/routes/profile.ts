/** Profiles. GET answers 404 for unknown users, and the whole profile 404 for a user with no name and no avatar, as Synapse does. */
import { Router } from "express";
import { authenticate } from "../auth";
import { MatrixError, invalidParam, notFound } from "../errors";
import { body, param, route } from "../http";
import { parseId } from "../ids";
import { checkProfileValue } from "../limits";
import type { Json } from "../types";
import type { UserRecord } from "../users";
import type { Deps } from "./deps";

const FIELDS = { displayname: "displayName", avatar_url: "avatarUrl" } as const;
type Field = keyof typeof FIELDS;

export function profileRouter({ core, rooms }: Deps): Router {
  const r = Router();

  const lookup = (userId: string): UserRecord => {
    if (!parseId("@", userId)) throw invalidParam("Invalid user id");
    const u = core.users.get(userId);
    if (!u) throw notFound("Profile was not found");
    return u;
  };

  const profileJson = (u: UserRecord): Json => {
    const out: Json = {};
    if (u.displayName !== undefined) out["displayname"] = u.displayName;
    if (u.avatarUrl !== undefined) out["avatar_url"] = u.avatarUrl;
    return out;
  };

  // Synapse (handlers/profile.py get_profile): 404 for a user with neither
  // field set, and a storage error's M_UNKNOWN for a user with no profile row.
  route(r, "get", "/profile/:userId", (req) => {
    const userId = param(req, "userId");
    if (parseId("@", userId) && !core.users.get(userId)) throw new MatrixError(404, "M_UNKNOWN", "No row found (profiles)");
    const profile = profileJson(lookup(userId));
    if (Object.keys(profile).length === 0) throw notFound("Profile was not found");
    return profile;
  });

  for (const field of Object.keys(FIELDS) as Field[]) {
    route(r, "get", `/profile/:userId/${field}`, (req) => {
      const u = lookup(param(req, "userId"));
      const v = u[FIELDS[field]];
      return v === undefined ? {} : { [field]: v };
    });

    route(r, "put", `/profile/:userId/${field}`, (req) => {
      const who = authenticate(core, req);
      const userId = param(req, "userId");
      if (who.userId !== userId) {
        throw new MatrixError(400, "M_FORBIDDEN", `Cannot set another user's ${field}`);
      }
      const b = body(req);
      if (!(field in b)) throw new MatrixError(400, "M_MISSING_PARAM", `Missing key '${field}'`);
      const value = b[field];
      if (value !== null && typeof value !== "string") throw new MatrixError(400, "M_INVALID_PARAM", `${field} must be a string`);
      checkProfileValue(field, value, "M_UNKNOWN");
      const u = lookup(userId);
      if (value === null || value === "") delete u[FIELDS[field]];
      else u[FIELDS[field]] = value;
      // Synapse re-sends the user's join event, with the new global profile, in every joined room.
      for (const roomId of u.rooms) {
        const room = core.rooms.get(roomId);
        if (room?.membership(userId) !== "join") continue;
        try {
          rooms.changeMembership(room, { sender: userId, target: userId, membership: "join" });
        } catch {
          // Synapse logs and carries on if one room refuses.
        }
      }
      return {};
    });
  }
  return r;
}
