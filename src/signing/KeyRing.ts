import { KeyObject } from "node:crypto";
import { Config } from "../config/schema";
import { logger } from "../log";
import { LruCache } from "../util/LruCache";
import { NodeDiscovery } from "../net/discovery";
import { OutboundError, OutboundHttp } from "../net/outboundHttp";
import { KeysDocument } from "../protocol/types";
import { checkResponse } from "../protocol/validate";
import { publicKeyFromBase64 } from "./ed25519";
import { NodeKeys } from "./NodeKeys";

const log = logger("signing.keyring");

/** A failed fetch is not retried for this long. */
const FAILURE_TTL_MS = 30_000;
/** A key id we have not seen makes us ask again, at most this often per node. */
const REFETCH_MS = 1_000;
/** The shortest time a good answer is kept, whatever its valid_until says. */
const MIN_TTL_MS = 60_000;

interface PeerKey { key: KeyObject; expiredTs: number | null }
interface Entry {
  keys: Map<string, PeerKey> | null; // null: the fetch failed
  fetchedAt: number;
  expires: number;
}

/** The key a signature was made with: found, known not to exist, or not knowable now. */
export type KeyLookup = { key: KeyObject } | "unknown" | "unavailable";

/**
 * Other nodes' public keys, fetched from `{endpoint}/keys` (the endpoint the
 * origin domain's configuration or /.well-known/webcall names) and cached in
 * a bounded LRU until valid_until, capped by signing.peerKeyCacheMs.
 * Concurrent lookups of one node share one fetch; a key id missing from a
 * cached answer (the node rotated) triggers a fresh fetch, at most one per
 * second per node (a lookup inside that second waits for it). This node's
 * own keys are answered from NodeKeys, without a fetch.
 */
export class KeyRing {
  private readonly cache: LruCache<string, Entry>;
  private readonly inFlight = new Map<string, Promise<Entry>>();

  constructor(
    private readonly http: OutboundHttp,
    private readonly discovery: NodeDiscovery,
    private readonly config: Config["signing"],
    private readonly own: NodeKeys,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new LruCache(config.peerKeyCacheSize);
  }

  /** The key `keyId` of `origin`, valid for a signature made at `ts`. */
  async keyFor(origin: string, keyId: string, ts: number): Promise<KeyLookup> {
    if (origin === this.own.origin) return validAt(this.own.published(keyId), ts);
    let entry = this.cache.get(origin);
    const now = this.now();
    if (!entry || entry.expires <= now) entry = await this.fetch(origin, now);
    // A key we have not seen: the node may just have rotated. Ask again, but
    // not more than once a second, so made-up key ids cannot flood the node.
    else if (entry.keys && !entry.keys.has(keyId)) entry = await this.fetch(origin, entry.fetchedAt + REFETCH_MS);
    if (!entry.keys) return "unavailable";
    return pick(entry.keys, keyId, ts);
  }

  /** One fetch per origin at a time, started no earlier than `notBefore`. */
  private fetch(origin: string, notBefore: number): Promise<Entry> {
    let job = this.inFlight.get(origin);
    if (!job) {
      // Never longer than the refetch interval: a clock stepped back must not stall lookups for the step.
      const wait = Math.min(notBefore - this.now(), REFETCH_MS);
      const start = wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : Promise.resolve();
      job = start.then(() => this.load(origin)).finally(() => this.inFlight.delete(origin));
      this.inFlight.set(origin, job);
    }
    return job;
  }

  private async load(origin: string): Promise<Entry> {
    const fetchedAt = this.now();
    let entry: Entry;
    try {
      const endpoint = await this.discovery.endpointFor(origin);
      if (!endpoint) throw new Error("no WebCall endpoint");
      const res = await this.http.request(`${endpoint.replace(/\/+$/, "")}/keys`, { method: "GET", headers: { Accept: "application/json" } });
      const body: unknown = JSON.parse(res.body.toString("utf8"));
      const [ok, problem] = checkResponse("keys-response", body);
      if (!ok) throw new Error(`the keys answer does not match the protocol: ${problem}`);
      const doc = body as KeysDocument;
      if (doc.node.toLowerCase() !== origin) throw new Error(`the keys answer is for ${doc.node}`);
      const ttl = Math.min(this.config.peerKeyCacheMs, Math.max(MIN_TTL_MS, doc.valid_until - fetchedAt));
      entry = { keys: keysOf(doc), fetchedAt, expires: fetchedAt + ttl };
    } catch (err) {
      log.info("could not fetch a node's keys", { origin, error: err instanceof OutboundError ? `${err.code}: ${err.message}` : (err as Error).message });
      // A refetch that fails (anyone can provoke one with a made-up key id)
      // keeps the keys already known while they are still fresh.
      const known = this.cache.get(origin);
      entry = known?.keys && known.expires > fetchedAt
        ? { ...known, fetchedAt }
        : { keys: null, fetchedAt, expires: fetchedAt + FAILURE_TTL_MS };
    }
    this.cache.set(origin, entry);
    return entry;
  }
}

function keysOf(doc: KeysDocument): Map<string, PeerKey> {
  const keys = new Map<string, PeerKey>();
  for (const [id, { key }] of Object.entries(doc.verify_keys)) {
    const parsed = publicKeyFromBase64(key);
    if (parsed) keys.set(id, { key: parsed, expiredTs: null });
  }
  for (const [id, { key, expired_ts }] of Object.entries(doc.old_verify_keys)) {
    const parsed = publicKeyFromBase64(key);
    if (parsed && !keys.has(id)) keys.set(id, { key: parsed, expiredTs: expired_ts });
  }
  return keys;
}

function pick(keys: Map<string, PeerKey>, keyId: string, ts: number): KeyLookup {
  return validAt(keys.get(keyId), ts);
}

function validAt(found: PeerKey | undefined, ts: number): KeyLookup {
  // A retired key only vouches for what it signed before it was retired.
  if (!found || (found.expiredTs !== null && ts > found.expiredTs)) return "unknown";
  return { key: found.key };
}
