/** POST /_matrix/client/v1/appservice/{appserviceId}/ping (spec v1.7). */
import { Router } from "express";
import { accessToken, unknownToken } from "../auth";
import { MatrixError, forbidden } from "../errors";
import { body, param, route } from "../http";
import type { Deps } from "./deps";

export function appserviceRouter({ core }: Deps): Router {
  const r = Router();
  route(r, "post", "/appservice/:appserviceId/ping", async (req) => {
    const token = accessToken(req);
    if (!token) throw new MatrixError(401, "M_MISSING_TOKEN", "Missing access token.");
    const as = core.appserviceByToken(token);
    if (!as) {
      if (core.users.session(token)) throw forbidden("Only application services can use the /appservice/ping endpoint");
      throw unknownToken();
    }
    if (as.id !== param(req, "appserviceId")) throw forbidden("Mismatching application service");
    const b = body(req, true);
    const txnId = typeof b["transaction_id"] === "string" ? b["transaction_id"] : undefined;
    return core.links.get(as.id)!.ping(txnId);
  });
  return r;
}
