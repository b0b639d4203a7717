/** Helpers for the homeserver's own tests: a small fetch client and a fake appservice. */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Reply {
  status: number;
  body: any;
}

/** Calls the client-server API; `path` is under /_matrix/client/v3 unless it starts with /_matrix. */
export async function call(base: string, method: string, path: string, token?: string, body?: unknown): Promise<Reply> {
  const url = path.startsWith("/_matrix") ? base + path : `${base}/_matrix/client/v3${path}`;
  const headers: Record<string, string> = {};
  if (token) headers["Authorization"] = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export const enc = encodeURIComponent;

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** An appservice endpoint that records requests and answers with scripted statuses. */
export class FakeAppservice {
  readonly received: ReceivedRequest[] = [];
  /** Statuses to answer transactions with, consumed in order; 200 when empty. */
  readonly txnStatuses: number[] = [];
  private waiters: (() => void)[] = [];

  private constructor(private readonly server: http.Server, readonly url: string) {}

  static async start(): Promise<FakeAppservice> {
    const ref: { self?: FakeAppservice } = {};
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const self = ref.self!;
        const raw = Buffer.concat(chunks).toString("utf8");
        self.received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: raw ? JSON.parse(raw) : undefined });
        const status = req.url?.includes("/transactions/") ? (self.txnStatuses.shift() ?? 200) : 200;
        res.writeHead(status, { "Content-Type": "application/json" }).end("{}");
        for (const w of self.waiters.splice(0)) w();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    ref.self = new FakeAppservice(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return ref.self;
  }

  get transactions(): ReceivedRequest[] {
    return this.received.filter((r) => r.url.includes("/transactions/"));
  }

  /** All pushed events that satisfy `pred`, across successful and failed transactions. */
  pushedEvents(pred: (ev: any) => boolean = () => true): any[] {
    return this.transactions.flatMap((t) => t.body.events as any[]).filter(pred);
  }

  /** Waits until `cond` holds, re-checking after each request. */
  async until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("FakeAppservice.until timed out");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}

/**
 * matrix-js-sdk 43 arms a local timeout for every request (sync: poll timeout + 80 s) and never
 * clears it, which keeps jest alive after stopClient(). While installed, long timers are unref'd so
 * they cannot hold the process open. Returns the function that restores the original setTimeout.
 */
export function unrefLongTimers(minMs = 20_000): () => void {
  const original = globalThis.setTimeout;
  const patched = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const t = original(fn, ms, ...args);
    if ((ms ?? 0) >= minMs) t.unref();
    return t;
  }) as typeof setTimeout;
  globalThis.setTimeout = Object.assign(patched, original);
  return () => {
    globalThis.setTimeout = original;
  };
}

/** A matrix-js-sdk Logger that keeps only errors (it warns about push rules even against Synapse). */
export function quietLogger() {
  const quiet = {
    trace: () => {},
    debug: () => {},
    info: () => {},
    log: () => {},
    warn: () => {},
    error: (...msg: unknown[]) => console.error(...msg),
    getChild: () => quiet,
  };
  return quiet;
}
