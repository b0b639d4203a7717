/**
 * OpenID tokens, as Synapse issues and checks them: a client asks for a token
 * for itself, and a third party (an integration manager, a bridge's
 * provisioning API) asks the server's federation API whose token it is.
 * Tokens are 24 letters, last an hour, and may be checked any number of times
 * until then.
 */
import { Router } from "express";
import { authenticate } from "../auth";
import { MatrixError } from "../errors";
import { body, param, route } from "../http";
import { randomLetters } from "../ids";
import type { Deps } from "./deps";

const LIFETIME_MS = 3600 * 1000; // Synapse's IdTokenServlet.EXPIRES_MS

export function openIdRouters({ core }: Deps): { client: Router; federation: Router } {
  const tokens = new Map<string, { userId: string; validUntil: number }>();

  const client = Router();
  route(client, "post", "/user/:userId/openid/request_token", (req) => {
    const who = authenticate(core, req);
    if (who.userId !== param(req, "userId")) throw new MatrixError(403, "M_FORBIDDEN", "Cannot request tokens for other users.");
    body(req); // Synapse requires a JSON object body and ignores what is in it
    const token = randomLetters(24);
    tokens.set(token, { userId: who.userId, validUntil: Date.now() + LIFETIME_MS });
    return { access_token: token, token_type: "Bearer", matrix_server_name: core.serverName, expires_in: LIFETIME_MS / 1000 };
  });

  // Unauthenticated, like Synapse's OpenIdUserInfo servlet (REQUIRE_AUTH = False).
  const federation = Router();
  route(federation, "get", "/openid/userinfo", (req) => {
    const token = req.query["access_token"];
    if (typeof token !== "string") throw new MatrixError(401, "M_MISSING_TOKEN", "Access Token required");
    const entry = tokens.get(token);
    if (!entry || entry.validUntil <= Date.now()) {
      throw new MatrixError(401, "M_UNKNOWN_TOKEN", "Access Token unknown or expired");
    }
    return { sub: entry.userId };
  });

  return { client, federation };
}
