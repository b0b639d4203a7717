/**
 * Who is making a request: an access token (header or ?access_token=), or an appservice token
 * masquerading with ?user_id= as Synapse allows (namespace users it has registered, or its sender).
 */
import type { Request } from "express";
import type { Appservice } from "./appservices";
import type { HomeserverCore } from "./core";
import { MatrixError, forbidden } from "./errors";

export interface Requester {
  userId: string;
  deviceId: string | undefined;
  appservice: Appservice | undefined;
  /** Scope for transaction-id idempotency and unsigned.transaction_id (Synapse: device, or the appservice). */
  deviceKey: string;
}

export function accessToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (m) return m[1];
  }
  const q = req.query["access_token"];
  return typeof q === "string" && q !== "" ? q : undefined;
}

export const unknownToken = (): MatrixError =>
  new MatrixError(401, "M_UNKNOWN_TOKEN", "Invalid access token passed.", { soft_logout: false });

export function authenticate(core: HomeserverCore, req: Request): Requester {
  const token = accessToken(req);
  if (!token) throw new MatrixError(401, "M_MISSING_TOKEN", "Missing access token.");

  const as = core.appserviceByToken(token);
  if (as) return appserviceRequester(core, as, req);

  const session = core.users.session(token);
  if (!session) throw unknownToken();
  return {
    userId: session.userId,
    deviceId: session.deviceId,
    appservice: undefined,
    deviceKey: `${session.userId}|${session.deviceId}`,
  };
}

function appserviceRequester(core: HomeserverCore, as: Appservice, req: Request): Requester {
  const q = req.query["user_id"];
  const userId = typeof q === "string" && q !== "" ? q : as.senderId;
  if (!as.isInterestedInUser(userId)) throw forbidden(`Application service cannot masquerade as this user (${userId}).`);
  const user = core.users.get(userId);
  if (!user) throw forbidden(`Application service has not registered this user (${userId})`);

  // MSC3202 device masquerading, as matrix-bot-sdk uses it.
  const d = req.query["org.matrix.msc3202.device_id"] ?? req.query["device_id"];
  let deviceId: string | undefined;
  if (typeof d === "string" && d !== "") {
    if (!user.devices.has(d)) throw forbidden("Application service has not registered this device");
    deviceId = d;
  }
  return {
    userId,
    deviceId,
    appservice: as,
    deviceKey: deviceId ? `${userId}|${deviceId}` : `appservice:${as.id}`,
  };
}
