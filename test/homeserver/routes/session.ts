/** /versions, /login, /register, /whoami, /logout. */
import { Router } from "express";
import { accessToken, authenticate, unknownToken } from "../auth";
import { MatrixError, forbidden, missingParam } from "../errors";
import { body, route } from "../http";
import { isValidLocalpart, parseId } from "../ids";
import type { Json } from "../types";
import type { Deps } from "./deps";

const VERSIONS = [
  "r0.0.1", "r0.1.0", "r0.2.0", "r0.3.0", "r0.4.0", "r0.5.0", "r0.6.0", "r0.6.1",
  "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10", "v1.11", "v1.12",
];

export function versionsRouter(): Router {
  const r = Router();
  route(r, "get", "/versions", () => ({ versions: VERSIONS, unstable_features: {} }));
  return r;
}

export function sessionRouter({ core }: Deps): Router {
  const r = Router();

  route(r, "get", "/login", () => ({
    flows: [{ type: "m.login.password" }, { type: "m.login.application_service" }],
  }));

  route(r, "post", "/login", (req) => {
    const b = body(req);
    const identifier = (b["identifier"] ?? {}) as Json;
    const rawUser = typeof identifier["user"] === "string" ? identifier["user"] : b["user"];
    if (typeof rawUser !== "string") throw missingParam("Invalid login submission");
    const userId = rawUser.startsWith("@") ? rawUser : `@${rawUser}:${core.serverName}`;
    const deviceId = typeof b["device_id"] === "string" ? b["device_id"] : undefined;

    if (b["type"] === "m.login.application_service") {
      const token = accessToken(req);
      const as = token ? core.appserviceByToken(token) : undefined;
      if (!as) throw unknownToken();
      if (!as.isInterestedInUser(userId)) throw forbidden("Invalid access_token");
      if (!core.users.get(userId)) throw forbidden("Invalid username or password");
    } else if (b["type"] === "m.login.password") {
      const user = core.users.get(userId);
      if (!user || user.password === undefined || user.password !== b["password"]) {
        throw forbidden("Invalid username or password");
      }
    } else {
      throw new MatrixError(400, "M_UNKNOWN", "Unknown login type");
    }
    const s = core.users.login(userId, deviceId);
    return { user_id: s.userId, access_token: s.token, device_id: s.deviceId, home_server: core.serverName };
  });

  route(r, "post", "/register", (req) => {
    const b = body(req, true);
    const token = accessToken(req);
    if (b["type"] !== "m.login.application_service") {
      if (token) {
        throw new MatrixError(400, "M_UNKNOWN", "An access token should not be provided on requests to /register (except if type is m.login.application_service)");
      }
      // Synapse's default: open registration is off.
      throw forbidden("Registration has been disabled. Only m.login.application_service registrations are allowed.");
    }
    if (!token) throw new MatrixError(400, "M_UNKNOWN", "Appservice token must be provided when using a type of m.login.application_service");
    const as = core.appserviceByToken(token);
    if (!as) throw unknownToken();
    const username = typeof b["user"] === "string" ? b["user"] : b["username"];
    if (typeof username !== "string") throw missingParam("Missing params: ['username']");
    // Synapse's only length check on this path (rest/client/register.py): an appservice may
    // register a user id over 255 characters, whose events then fail (limits.ts).
    if (username.length > 512) throw new MatrixError(400, "M_UNKNOWN", "Invalid username");
    const localpart = username.startsWith("@") ? (parseId("@", username)?.localpart ?? username) : username;
    const userId = `@${localpart}:${core.serverName}`;
    if (!as.isInterestedInUser(userId)) {
      throw new MatrixError(400, "M_EXCLUSIVE", "Invalid user localpart for this application service.");
    }
    for (const other of core.appservices.values()) {
      if (other !== as && other.isExclusiveUser(userId)) {
        throw new MatrixError(400, "M_EXCLUSIVE", "This user ID is reserved by an application service.");
      }
    }
    if (!isValidLocalpart(localpart)) {
      throw new MatrixError(400, "M_INVALID_USERNAME", "User ID can only contain characters a-z, 0-9, or '=_-./+'");
    }
    core.users.create(localpart); // throws M_USER_IN_USE
    if (b["inhibit_login"] === true) return { user_id: userId, home_server: core.serverName };
    const s = core.users.login(userId, typeof b["device_id"] === "string" ? b["device_id"] : undefined);
    return { user_id: userId, home_server: core.serverName, access_token: s.token, device_id: s.deviceId };
  });

  route(r, "get", "/account/whoami", (req) => {
    const who = authenticate(core, req);
    const out: Json = { user_id: who.userId, is_guest: false };
    if (who.deviceId) out["device_id"] = who.deviceId;
    return out;
  });

  route(r, "post", "/logout", (req) => {
    const who = authenticate(core, req);
    const token = accessToken(req);
    if (!who.appservice && token) core.users.logout(token);
    return {};
  });

  return r;
}
