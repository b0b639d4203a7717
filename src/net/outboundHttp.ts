import dns from "node:dns";
import http, { IncomingHttpHeaders } from "node:http";
import https from "node:https";
import { BlockList, isIP, LookupFunction } from "node:net";
import { Config } from "../config/schema";
import { IDLE_SOCKET_MS, lostToIdleClose } from "../util/keepAlive";

/**
 * Guarded outbound HTTP for requests whose URL a remote party chose (notify
 * pushes): https only (unless allowHttp), no private/loopback/link-local/...
 * destinations (unless allowPrivateNetworks), the checked IP is the one we
 * connect to (so DNS rebinding cannot swap it), no redirects followed, one
 * deadline for DNS + connect + response, and a cap on the response body.
 * A request a peer's idle close lost on a pooled connection is sent again
 * on a fresh one (src/util/keepAlive.ts).
 */

export type OutboundErrorCode =
  | "bad_url" | "bad_scheme" | "blocked_address" | "timeout" | "too_large" | "http_status" | "network";

export class OutboundError extends Error {
  constructor(
    readonly code: OutboundErrorCode,
    message: string,
    /** The HTTP status, for `http_status` (3xx redirects included: never followed). */
    readonly status?: number,
    /** Retry-After in ms, when an http_status answer carried one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "OutboundError";
  }
}

export interface OutboundResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface OutboundRequest {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export type ResolveFn = (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;

type OutboundConfig = Config["outbound"];

const defaultResolve: ResolveFn = async (hostname) =>
  (await dns.promises.lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** Addresses a caller must not make us talk to. Two lists, because a
 *  BlockList also matches IPv4 addresses against IPv6 rules (as ::ffff:a.b.c.d). */
const blockedV4 = new BlockList();
const blockedV6 = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], // "this network", unspecified
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local (cloud metadata)
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) blockedV4.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  ["::", 96], // unspecified, loopback, IPv4-compatible
  ["::ffff:0:0", 96], // IPv4-mapped: checked as IPv4 below, never passed as-is
  ["64:ff9b::", 96], // NAT64: checked as IPv4 below
  ["64:ff9b:1::", 48], // local-use NAT64
  ["100::", 64], // discard
  ["2001:db8::", 32], // documentation
  ["2002::", 16], // 6to4 (embeds an arbitrary IPv4)
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
] as const) blockedV6.addSubnet(net, prefix, "ipv6");

/** The IPv4 address an IPv4-mapped or NAT64 IPv6 address stands for. */
function embeddedIPv4(ip: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(ip);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2] ?? "0", 16);
  const lo = parseInt(m[3] ?? "0", 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Whether an IP address is loopback, private, link-local, unique-local,
 *  unspecified, multicast, CGNAT, reserved, or an IPv6 form of one of them. */
export function isBlockedAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return blockedV4.check(ip, "ipv4");
  if (family !== 6) return true;
  const v4 = embeddedIPv4(ip);
  if (v4 !== undefined) return blockedV4.check(v4, "ipv4");
  return blockedV6.check(ip, "ipv6");
}

/** A lookup that answers with the address we already checked, whatever DNS says now. */
function pinned(address: string, family: 4 | 6): LookupFunction {
  return ((_hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
}

export class OutboundHttp {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly resolve: ResolveFn;

  constructor(private readonly config: OutboundConfig, options: { resolve?: ResolveFn } = {}) {
    this.resolve = options.resolve ?? defaultResolve;
    const agentOptions = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: IDLE_SOCKET_MS };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
  }

  /** Checks a URL without sending anything: scheme and syntax (not DNS). */
  checkUrl(input: string): URL {
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      throw new OutboundError("bad_url", "not a URL");
    }
    if (url.username || url.password) throw new OutboundError("bad_url", "URLs with credentials are not allowed");
    if (url.protocol !== "https:" && !(url.protocol === "http:" && (this.config.allowHttp || this.trusted(url)))) {
      throw new OutboundError("bad_scheme", `${url.protocol} URLs are not allowed${url.protocol === "http:" ? " (only https)" : ""}`);
    }
    return url;
  }

  /** Sends one request; resolves for 2xx only, else throws OutboundError. */
  async request(input: string, init: OutboundRequest = {}): Promise<OutboundResponse> {
    const deadline = Date.now() + this.config.timeoutMs;
    const url = this.checkUrl(input);
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;

    let target: { address: string; family: 4 | 6 };
    const literal = isIP(host);
    if (literal) {
      target = { address: host, family: literal === 6 ? 6 : 4 };
      this.allow(url, [target.address]);
    } else {
      const addresses = await this.withDeadline(deadline, this.resolve(host).catch((error: NodeJS.ErrnoException) => {
        throw new OutboundError("network", `cannot resolve ${host}: ${error.code ?? error.message}`);
      }));
      if (addresses.length === 0) throw new OutboundError("network", `cannot resolve ${host}`);
      // Every address must pass: a name mixing public and private addresses is refused.
      this.allow(url, addresses.map((a) => a.address));
      target = addresses[0]!;
    }
    return this.send(url, init, target, deadline);
  }

  /** POSTs a JSON body; resolves with the parsed 2xx body (undefined when empty or not JSON). */
  async postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
    const response = await this.request(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
      body: JSON.stringify(body),
    });
    let parsed: unknown;
    try {
      parsed = response.body.length ? JSON.parse(response.body.toString("utf8")) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed };
  }

  /** Closes pooled keep-alive connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** A host the operator listed in outbound.trustedHosts, by name or name:port. */
  private trusted(url: URL): boolean {
    const hosts = this.config.trustedHosts;
    return hosts.includes(url.host) || hosts.includes(url.hostname);
  }

  private allow(url: URL, addresses: string[]): void {
    if (this.config.allowPrivateNetworks || this.trusted(url)) return;
    const bad = addresses.find((a) => isBlockedAddress(a));
    if (bad !== undefined) throw new OutboundError("blocked_address", `refusing to connect to ${bad}: not a public address`);
  }

  private withDeadline<T>(deadline: number, work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      work,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new OutboundError("timeout", "timed out")), Math.max(0, deadline - Date.now()));
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** `fresh`: on a new connection outside the pool, for the one resend of a request an idle close lost. */
  private send(url: URL, init: OutboundRequest, target: { address: string; family: 4 | 6 }, deadline: number, fresh = false): Promise<OutboundResponse> {
    const max = this.config.maxResponseBytes;
    const body = init.body === undefined ? undefined : Buffer.from(init.body);
    const isHttps = url.protocol === "https:";
    const options: https.RequestOptions = {
      method: init.method ?? (body ? "POST" : "GET"),
      protocol: url.protocol,
      hostname: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port || (isHttps ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers: {
        "User-Agent": "matrix-appservice-webcall",
        ...init.headers,
        ...(body ? { "Content-Length": String(body.length) } : {}),
      },
      agent: fresh ? false : isHttps ? this.httpsAgent : this.httpAgent,
      lookup: pinned(target.address, target.family),
      ...(isHttps && !isIP(url.hostname) ? { servername: url.hostname } : {}),
    };

    return new Promise<OutboundResponse>((resolve, reject) => {
      let settled = false, answered = false;
      const fail = (error: OutboundError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(new OutboundError("timeout", `no complete answer within ${this.config.timeoutMs} ms`)),
        Math.max(0, deadline - Date.now()));

      const req = (isHttps ? https : http).request(options, (res) => {
        answered = true;
        const status = res.statusCode ?? 0;
        const declared = Number(res.headers["content-length"]);
        if (Number.isFinite(declared) && declared > max) {
          fail(new OutboundError("too_large", `response of ${declared} bytes exceeds ${max}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > max) {
            fail(new OutboundError("too_large", `response exceeds ${max} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("error", (error) => fail(new OutboundError("network", error.message)));
        res.on("aborted", () => fail(new OutboundError("network", "response aborted")));
        res.on("end", () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const response = { status, headers: res.headers, body: Buffer.concat(chunks) };
          if (status >= 200 && status < 300) {
            resolve(response);
            return;
          }
          const retryAfter = Number(res.headers["retry-after"]);
          reject(new OutboundError("http_status",
            status >= 300 && status < 400 ? `redirect (${status}) not followed` : `answered ${status}`,
            status, Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined));
        });
      });
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (!settled && !fresh && lostToIdleClose(req, error, answered)) {
          settled = true;
          clearTimeout(timer);
          resolve(this.send(url, init, target, deadline, true));
          return;
        }
        fail(new OutboundError("network", `${error.code ?? "error"}: ${error.message}`));
      });
      req.end(body);
    });
  }
}
