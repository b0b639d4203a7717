import { Config } from "../config/schema";
import { logger } from "../log";
import { OutboundError, OutboundHttp } from "./outboundHttp";

const log = logger("webcall.discovery");

interface Cached { endpoint: string | null; expires: number }

/**
 * Finds the WebCall endpoint for a domain: the static map in the config
 * first, then `https://{domain}/.well-known/webcall`. Answers are cached with
 * a TTL (failures for a shorter one) in a bounded map; concurrent lookups of
 * one domain share a single request. Every request goes through the guarded
 * OutboundHttp, and so does the endpoint it names when it is used.
 */
export class NodeDiscovery {
  private readonly cache = new Map<string, Cached>();
  private readonly inFlight = new Map<string, Promise<string | null>>();

  constructor(
    private readonly http: OutboundHttp,
    private readonly config: Config["outbound"],
    private readonly now: () => number = Date.now,
  ) {}

  /** The endpoint for `domain`, or null when it has none (or it could not be found). */
  async endpointFor(domain: string): Promise<string | null> {
    const configured = this.configured(domain);
    if (configured) return configured;
    const cached = this.cache.get(domain);
    if (cached && cached.expires > this.now()) return cached.endpoint;
    let lookup = this.inFlight.get(domain);
    if (!lookup) {
      lookup = this.lookup(domain).finally(() => this.inFlight.delete(domain));
      this.inFlight.set(domain, lookup);
    }
    return lookup;
  }

  /** The endpoint if it is known without a request (configured, or cached and fresh). */
  known(domain: string): string | undefined {
    const configured = this.configured(domain);
    if (configured) return configured;
    const cached = this.cache.get(domain);
    return cached?.endpoint && cached.expires > this.now() ? cached.endpoint : undefined;
  }

  /** The endpoint the config names for `domain` (own keys only: a domain
   *  spelt like "constructor" is not an Object property). */
  private configured(domain: string): string | undefined {
    return Object.hasOwn(this.config.nodes, domain) ? this.config.nodes[domain] : undefined;
  }

  /** Forgets a domain's answer (e.g. its endpoint stopped answering). */
  forget(domain: string): void {
    this.cache.delete(domain);
  }

  private async lookup(domain: string): Promise<string | null> {
    let endpoint: string | null = null;
    try {
      const res = await this.http.request(`https://${domain}/.well-known/webcall`, { method: "GET", headers: { Accept: "application/json" } });
      const body = JSON.parse(res.body.toString("utf8")) as { endpoint?: unknown };
      if (typeof body.endpoint !== "string") throw new Error("no endpoint in /.well-known/webcall");
      endpoint = this.http.checkUrl(body.endpoint).href;
    } catch (err) {
      log.info("no WebCall endpoint found", { domain, error: err instanceof OutboundError ? `${err.code}: ${err.message}` : (err as Error).message });
    }
    this.remember(domain, endpoint);
    return endpoint;
  }

  private remember(domain: string, endpoint: string | null): void {
    const ttl = endpoint ? this.config.discoveryCacheMs : this.config.discoveryFailureCacheMs;
    this.cache.delete(domain);
    this.cache.set(domain, { endpoint, expires: this.now() + ttl });
    // Map keeps insertion order: the first key is the least recently stored.
    while (this.cache.size > this.config.discoveryCacheSize) this.cache.delete(this.cache.keys().next().value!);
  }
}
