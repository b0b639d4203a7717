import express, { NextFunction, Request, RequestHandler, Response } from "express";
import { IApiError, ProvisioningApi, ProvisioningRequest } from "matrix-appservice-bridge";
import { Config } from "../config/schema";
import { logger } from "../log";
import { RulesService } from "../rules/RulesService";
import { Store } from "../store/Store";
import { bearerToken } from "../util/bearer";
import { listenerServer } from "../util/listenerServer";
import { DomainError } from "../errors/DomainError";
import { clientError, forbidden, INTERNAL, unrecognized } from "./errors";
import { RotaAccess, RotaAccessOptions } from "./rotaAccess";
import { addRotaRoutes, RotaRoutesOptions } from "./rotaRoutes";
import { addRulesRoutes } from "./routes";
import { validateBody } from "./schemas";
import { SessionStore } from "./SessionStore";

/**
 * The provisioning API: web front ends manage a user's rules over HTTP. It is
 * matrix-appservice-bridge's ProvisioningApi, as other bridges serve it: a
 * front end gets an OpenID token from the user's homeserver, exchanges it at
 * POST {prefix}/v1/exchange_openid for a session token, and sends that as
 * `Authorization: Bearer` (GET/DELETE {prefix}/v1/session come with the
 * library). Around it, on our own express app:
 *  - before it: security headers, CORS preflights (the library answers none,
 *    and a browser sends one before any request with a bearer token), a
 *    body size limit, and refusing OpenID tokens from other homeservers;
 *  - in it: the rules routes (routes.ts), each scoped to the session's user,
 *    and the rota routes (rotaRoutes.ts), scoped by the user's standing in
 *    each rota's room;
 *  - after it: 404s, and one error format for everything (errors.ts).
 */

export interface ProvisioningServer {
  port: number;
  close(): Promise<void>;
}

const log = logger("provisioning");

/** Whatever reaches an error handler, answered as `{errcode, error}`. */
function sendError(thrown: unknown, req: Request, res: Response): void {
  // The library hands route errors on as [error, request].
  const error: unknown = Array.isArray(thrown) ? thrown[0] : thrown;
  const known = clientError(error);
  if (known) {
    log.debug("request refused", { method: req.method, path: req.path, status: known.statusCode, errcode: known.errcode });
  } else {
    log.error("request failed", { method: req.method, path: req.path, error: (error as Error)?.stack ?? String(error) });
  }
  if (res.headersSent) {
    res.end();
    return;
  }
  (known ?? INTERNAL).apply(res);
}

/** The library, with our error answers in place of its own. Its constructor
 *  installs `this.onError` (unbound) as the error handler of every route, so
 *  this override must not use `this`. */
class WebCallProvisioningApi extends ProvisioningApi {
  protected override onError(
    err: [IApiError | Error, ProvisioningRequest | Request] | IApiError | Error,
    req: Request,
    res: Response,
    _next: NextFunction,
  ): void {
    sendError(err, req, res);
  }
}

function securityHeaders(): RequestHandler {
  return (_req, res, next) => {
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Cache-Control", "no-store");
    next();
  };
}

/** Answers CORS preflights; the library sets Allow-Origin on the real requests. */
function preflight(): RequestHandler {
  return (req, res, next) => {
    if (req.method !== "OPTIONS") { next(); return; }
    res.setHeader("Access-Control-Allow-Origin", "*");
    res.setHeader("Access-Control-Allow-Methods", "GET, PUT, POST, DELETE");
    res.setHeader("Access-Control-Allow-Headers", "Authorization, Content-Type");
    res.setHeader("Access-Control-Max-Age", "600");
    res.status(204).end();
  };
}

/** The library reads the token after `Bearer ` or `bearer ` only; the scheme
 *  is case-insensitive (RFC 7235) and may be followed by several spaces, so
 *  the header is put in the form the library reads, by the parser every
 *  listener shares. */
function bearerScheme(): RequestHandler {
  return (req, _res, next) => {
    const token = bearerToken(req.get("authorization"));
    if (token !== undefined) req.headers.authorization = `Bearer ${token}`;
    next();
  };
}

/** JSON bodies only, up to maxBodyBytes. Parsed here, before the library's
 *  own parser (which would allow 100 kB of anything). */
function jsonBodies(maxBodyBytes: number): RequestHandler[] {
  return [
    (req, _res, next) => {
      // req.is() is null without a body, false for a body of another type;
      // an empty body (Content-Length: 0, a POST with nothing to say) is no body.
      if (req.is("application/json") === false && req.get("content-length") !== "0") {
        next(new DomainError("M_NOT_JSON_MEDIA_TYPE", "Content-Type must be application/json"));
        return;
      }
      next();
    },
    express.json({ limit: maxBodyBytes, strict: true, inflate: false }),
  ];
}

/** Sessions only for our own homeserver's users: the library would accept an
 *  OpenID token from any homeserver (after a well-known lookup). */
function ownHomeserverOnly(domain: string): RequestHandler {
  return (req, _res, next) => {
    try {
      const { matrixServer } = validateBody("exchangeOpenId", req.body);
      if (matrixServer !== domain) {
        throw forbidden(`body.matrixServer must be ${domain}: this bridge serves only that homeserver's users`);
      }
      next();
    } catch (error) {
      next(error);
    }
  };
}

/** What the rota routes need (rotaRoutes.ts); without it they are not served. */
export type RotaApi = Omit<RotaRoutesOptions, "store" | "access" | "domain" | "tell"> & RotaAccessOptions;

/** Notices in rota rooms, from the bot. */
function teller(rotas: RotaApi): RotaRoutesOptions["tell"] {
  return async (roomId, text) => {
    await rotas.homeserver.sendEvent(rotas.botUserId, roomId, "m.room.message", { msgtype: "m.notice", body: text });
  };
}

/** Starts the provisioning listener on provisioning.bind and provisioning.port. */
export async function startProvisioning(config: Config, rules: RulesService, store: Store, rotas?: RotaApi): Promise<ProvisioningServer> {
  const settings = config.provisioning;
  const domain = config.homeserver.domain;
  const prefix = settings.prefix.replace(/\/+$/, ""); // "" or "/x/y"
  const mount = prefix || "/";

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use(securityHeaders());
  app.use(mount, preflight(), bearerScheme(), ...jsonBodies(settings.maxBodyBytes));
  app.post(`${prefix}/v1/exchange_openid`, ownHomeserverOnly(domain));

  const api = new WebCallProvisioningApi(new SessionStore(store), {
    expressApp: app,
    apiPrefix: mount,
    // Our homeserver is reached at its configured URL, not through
    // .well-known: that URL may be private, which the library would refuse.
    // Synapse answers userinfo only on an `openid`/`federation` listener,
    // which need not be the client listener at homeserver.url.
    openIdOverride: { [domain]: new URL(config.homeserver.openIdUrl ?? config.homeserver.url) },
    ratelimit: { windowMs: settings.rateLimit.windowMs, max: settings.rateLimit.max },
    widgetTokenLifetimeMs: settings.sessionLifetimeMs,
  });
  addRulesRoutes(api, rules, domain);
  if (rotas) addRotaRoutes(api, { ...rotas, store: store.rotas, access: new RotaAccess(rotas), domain, tell: teller(rotas) });

  app.use((_req, _res, next) => next(unrecognized()));
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => sendError(error, req, res));

  const server = listenerServer(app);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.port, settings.bind, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : settings.port;
  log.info("provisioning API ready", { bind: settings.bind, port, prefix });

  return {
    port,
    close: () => new Promise<void>((resolve, reject) => {
      if (!server.listening) { resolve(); return; }
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeIdleConnections();
      setImmediate(() => server.closeAllConnections());
    }),
  };
}
