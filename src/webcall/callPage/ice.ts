import { createHmac, randomBytes } from "node:crypto";
import { Config } from "../../config/schema";

/** What a browser's RTCPeerConnection takes as `iceServers`. */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

type IceConfig = Config["callPage"]["iceServers"][number];

/**
 * TURN REST credentials (draft-uberti-behave-turn-rest, coturn's
 * `use-auth-secret`), made exactly as Synapse makes them from
 * `turn_shared_secret`: the username is `<expiry in unix seconds>:<tag>` and
 * the credential base64(HMAC-SHA1(secret, username)). The TURN server checks
 * the HMAC and the expiry, so nothing needs to be stored; the tag is random,
 * because a link caller has no user id to put there.
 */
export function turnRestCredential(secret: string, nowMs: number, lifetimeMs: number, tag = `webcall-link-${randomBytes(9).toString("base64url")}`): { username: string; credential: string } {
  const username = `${Math.floor((nowMs + lifetimeMs) / 1000)}:${tag}`;
  const credential = createHmac("sha1", secret).update(username).digest("base64");
  return { username, credential };
}

/** The configured servers as one call's browser gets them: fresh credentials
 *  for every server with a shared secret, fixed ones as configured. */
export function iceServersForCall(servers: readonly IceConfig[], nowMs: number, lifetimeMs: number): IceServer[] {
  return servers.map((server) => {
    const urls = [...server.urls];
    if (server.sharedSecret !== undefined) return { urls, ...turnRestCredential(server.sharedSecret, nowMs, lifetimeMs) };
    if (server.username !== undefined && server.credential !== undefined) return { urls, username: server.username, credential: server.credential };
    return { urls };
  });
}
