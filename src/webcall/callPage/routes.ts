import express, { RequestHandler } from "express";
import { Config } from "../../config/schema";
import { DomainError } from "../../errors/DomainError";
import { logger } from "../../log";
import { MonotonicClock } from "../../util/monotonicClock";
import { clientRateLimit } from "../guards";
import { methodNotAllowed } from "../httpErrors";
import { ctxOf } from "../requestContext";
import { handle } from "../respond";
import { Asset, AssetName, loadAssets, sendAsset } from "./assets";
import { pageHeaders } from "./headers";
import { iceServersForCall } from "./ice";

/**
 * The call link page (docs/call-link.md), on the WebCall listener:
 *
 *   GET /call/{who}          the page: the same bytes for every who, known or not
 *   GET /call/assets/{file}  its stylesheet, script and icon
 *   GET /call/{who}/card     who the page calls: {address, displayName?, endpoint}
 *   GET /call/{who}/ice      STUN/TURN servers for one call, TURN credentials fresh
 *
 * `who` is a localpart (alice, or a rota's name) or a full address. The page
 * places the call itself with a plain anonymous WebCall/1 setup to the
 * endpoint, so the callee's rules and the neutral refusal apply unchanged.
 */

/** Who a link names, as the page may show them. */
export interface CallCard {
  address: string;
  /** Only for someone who takes calls from the page: see CallPageDirectory. */
  displayName?: string;
}

/** Answers for the card; implemented on the Matrix side (src/matrix/CallCards.ts). */
export interface CallPageDirectory {
  /** The card for `address`. Must not tell an unknown address from a known
   *  one with no display name (the route also holds every answer to one time). */
  card(address: string): Promise<CallCard>;
}

export interface CallPageOptions {
  config: Config["callPage"];
  /** This node's domain: `who` without one is a local name. */
  domain: string;
  /** The WebCall endpoint's path on this listener ("/webcall"), where the page POSTs. */
  endpointPath: string;
  directory: CallPageDirectory;
  clock: MonotonicClock;
  /** Every card answer leaves this long after its request arrived (calls.neutralAnswerMs). */
  cardFloorMs: number;
  now?: () => number;
}

const log = logger("webcall.callPage");

const LOCALPART = /^[A-Za-z0-9._=+/-]{1,255}$/;
const ADDRESS = /^[A-Za-z0-9._=+/-]{1,255}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const ASSET = /^(call\.css|call\.js|call\.svg)$/;

/** The address a link's `who` names, or undefined when it can name none. */
export function addressOfWho(who: string, domain: string): string | undefined {
  if (LOCALPART.test(who)) return `${who}@${domain}`;
  if (ADDRESS.test(who)) {
    const at = who.lastIndexOf("@");
    return `${who.slice(0, at)}@${who.slice(at + 1).toLowerCase()}`;
  }
  return undefined;
}

export function callPageRouter(options: CallPageOptions): express.Router {
  const { config, domain, directory, clock, cardFloorMs } = options;
  const now = options.now ?? Date.now;
  const assets: Map<AssetName, Asset> = loadAssets();
  const router = express.Router({ caseSensitive: true, strict: true });
  router.use(pageHeaders, clientRateLimit(config.rateLimit.windowMs, config.rateLimit.max));

  const whoParam: RequestHandler = (req, res, next) => {
    const address = addressOfWho(String(req.params.who), domain);
    if (!address) {
      next(new DomainError("WEBCALL_NOT_FOUND", "a call link names a user like /call/alice"));
      return;
    }
    res.locals.address = address;
    next();
  };

  router.route("/assets/:file")
    .get((req, res, next) => {
      const file = String(req.params.file);
      if (!ASSET.test(file)) {
        next(new DomainError("WEBCALL_NOT_FOUND", "no such file"));
        return;
      }
      // Not immutable: the names carry no version, so a new release must be seen within the hour.
      res.setHeader("Cache-Control", "public, max-age=3600");
      sendAsset(req, res, assets.get(file as AssetName)!);
    })
    .all(methodNotAllowed("GET"));

  router.route("/:who")
    .get(whoParam, (req, res) => {
      res.setHeader("Cache-Control", "no-cache");
      sendAsset(req, res, assets.get("page.html")!);
    })
    .all(methodNotAllowed("GET"));

  // The page's files are relative to it: /call/alice/ would look for them under /call/alice/assets/.
  router.get("/:who/", whoParam, (req, res) => {
    res.redirect(308, `${req.baseUrl}/${encodeURIComponent(String(req.params.who))}`);
  });

  router.route("/:who/card")
    .get(whoParam, handle(async (req, res) => {
      const deadline = ctxOf(req).receivedAt + cardFloorMs;
      const address = res.locals.address as string;
      // A card that could not be made is the plain one: the page can still call.
      const card = await directory.card(address).catch((error: unknown) => {
        log.warn("could not make a call link's card", { requestId: ctxOf(req).requestId, error: (error as Error)?.message ?? String(error) });
        return { address };
      });
      await clock.sleepUntil(deadline);
      res.status(200).json({ ...card, endpoint: options.endpointPath });
    }))
    .all(methodNotAllowed("GET"));

  router.route("/:who/ice")
    .get(whoParam, (_req, res) => {
      res.status(200).json({ iceServers: iceServersForCall(config.iceServers, now(), config.turnCredentialLifetimeMs) });
    })
    .all(methodNotAllowed("GET"));

  return router;
}

/** Anonymous, unsigned setups (the page's calls) per client address: a
 *  stranger with a browser cannot ring someone all day. Setups from other
 *  nodes (signed) and from callers with an address are not counted. */
export function anonymousCallLimiter(config: Config["callPage"]): RequestHandler {
  return clientRateLimit(config.rateLimit.callsWindowMs, config.rateLimit.calls,
    (req) => req.ctx?.signer !== undefined || (typeof req.body === "object" && req.body !== null && "callerId" in req.body));
}
