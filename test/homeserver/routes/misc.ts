/** Endpoints clients call at start-up whose answers only need to be valid: capabilities, push rules, keys, TURN... */
import { Router } from "express";
import { authenticate } from "../auth";
import { notFound } from "../errors";
import { body, route } from "../http";
import { defaultPushRules } from "../pushRules";
import { DEFAULT_ROOM_VERSION } from "../rooms";
import type { Json } from "../types";
import type { Deps } from "./deps";

export function miscRouter({ core }: Deps): Router {
  const r = Router();
  const authed = (fn: (userId: string) => Json) => (req: Parameters<typeof authenticate>[1]) => fn(authenticate(core, req).userId);

  route(r, "get", "/capabilities", authed(() => ({
    capabilities: {
      "m.change_password": { enabled: true },
      "m.room_versions": {
        default: DEFAULT_ROOM_VERSION,
        available: Object.fromEntries(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"].map((v) => [v, "stable"])),
      },
      "m.set_displayname": { enabled: true },
      "m.set_avatar_url": { enabled: true },
      "m.3pid_changes": { enabled: true },
    },
  })));
  route(r, "get", "/pushrules/", authed(defaultPushRules));
  route(r, "get", "/pushrules", authed(defaultPushRules));
  route(r, "get", "/voip/turnServer", authed(() => ({}))); // Synapse with no TURN configured
  route(r, "get", "/thirdparty/protocols", authed(() => ({})));
  route(r, "post", "/keys/upload", authed(() => ({ one_time_key_counts: { signed_curve25519: 0 } })));
  route(r, "post", "/keys/query", (req) => {
    authenticate(core, req);
    const wanted = (body(req, true)["device_keys"] ?? {}) as Json;
    return { device_keys: Object.fromEntries(Object.keys(wanted).map((u) => [u, {}])), failures: {} };
  });
  route(r, "post", "/keys/claim", authed(() => ({ one_time_keys: {}, failures: {} })));
  route(r, "get", "/keys/changes", authed(() => ({ changed: [], left: [] })));
  route(r, "get", "/room_keys/version", (req) => {
    authenticate(core, req);
    throw notFound("No current backup version");
  });
  route(r, "get", "/devices", authed((userId) => ({
    devices: [...core.users.require(userId).devices].map((device_id) => ({ device_id, user_id: userId })),
  })));
  return r;
}

export function mediaRouter({ core }: Deps): Router {
  const r = Router();
  route(r, "get", "/config", (req) => {
    authenticate(core, req);
    return { "m.upload.size": 52428800 };
  });
  return r;
}
