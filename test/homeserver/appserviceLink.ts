/**
 * The homeserver's side of one appservice: an ordered push queue with one transaction in flight,
 * retried with the same txnId and events until the appservice answers 2xx (what lets a bridge
 * recover after a crash), and the /ping round trip.
 */
import http from "node:http";
import { MatrixError } from "./errors";
import { formatEvent } from "./format";
import type { Appservice } from "./appservices";
import type { Json, StoredEvent } from "./types";

const MAX_EVENTS_PER_TXN = 100;
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2000;
const REQUEST_TIMEOUT_MS = 10_000;

export interface LinkOptions {
  agent: http.Agent;
  /** Send ?access_token= instead of the Authorization header (older homeservers). */
  legacyAccessTokenPush: boolean;
}

interface HttpResult {
  status: number;
  body: string;
}

export class AppserviceLink {
  private readonly pending: StoredEvent[] = [];
  private inFlight: { id: number; events: StoredEvent[] } | undefined;
  private nextTxnId = 1;
  private running = false;
  private stopped = false;
  private down = false;
  private wakeBackoff: (() => void) | undefined;
  private backoffTimer: NodeJS.Timeout | undefined;
  private readonly requests = new Set<http.ClientRequest>();

  constructor(
    readonly appservice: Appservice,
    private readonly opts: LinkOptions,
  ) {}

  enqueue(ev: StoredEvent): void {
    if (this.appservice.reg.url === null || this.stopped) return; // Synapse drops pushes for url-less appservices
    this.pending.push(ev);
    this.kick();
  }

  setDown(down: boolean): void {
    this.down = down;
    if (!down) this.wakeBackoff?.(); // retry at once once the appservice is "back"
  }

  stop(): void {
    this.stopped = true;
    this.wakeBackoff?.();
    for (const r of this.requests) r.destroy();
  }

  private kick(): void {
    if (!this.running && !this.stopped) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    let backoff = FIRST_BACKOFF_MS;
    try {
      while (!this.stopped) {
        if (!this.inFlight) {
          if (this.pending.length === 0) break;
          this.inFlight = { id: this.nextTxnId++, events: this.pending.splice(0, MAX_EVENTS_PER_TXN) };
        }
        if (await this.push(this.inFlight.id, this.inFlight.events)) {
          this.inFlight = undefined;
          backoff = FIRST_BACKOFF_MS;
          continue;
        }
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    } finally {
      this.running = false;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(this.backoffTimer);
        this.backoffTimer = undefined;
        this.wakeBackoff = undefined;
        resolve();
      };
      this.wakeBackoff = done;
      this.backoffTimer = setTimeout(done, ms);
    });
  }

  private async push(txnId: number, events: StoredEvent[]): Promise<boolean> {
    if (this.down) return false;
    const now = Date.now(); // age is as of this attempt, as Synapse serialises per attempt
    const body = {
      events: events.map((e) =>
        formatEvent(e, now, {
          withRoomId: true,
          v1: true,
          withInviteState:
            e.type === "m.room.member" &&
            e.content["membership"] === "invite" &&
            this.appservice.isInterestedInUser(e.state_key ?? ""),
        }),
      ),
    };
    try {
      const res = await this.request("PUT", `/_matrix/app/v1/transactions/${txnId}`, body, this.opts.legacyAccessTokenPush);
      return res.status >= 200 && res.status < 300;
    } catch {
      return false;
    }
  }

  /** POST /_matrix/app/v1/ping as Synapse does for /_matrix/client/v1/appservice/{id}/ping. */
  async ping(transactionId: string | undefined): Promise<{ duration_ms: number }> {
    if (this.appservice.reg.url === null) {
      throw new MatrixError(400, "M_URL_NOT_SET", "Application service URL is not set");
    }
    const start = Date.now();
    let res: HttpResult;
    try {
      // Synapse always sends the key, null when the client gave none.
      res = await this.request("POST", "/_matrix/app/v1/ping", { transaction_id: transactionId ?? null }, false);
    } catch (e) {
      if (e instanceof Error && e.message === "timeout") {
        throw new MatrixError(504, "M_CONNECTION_TIMEOUT", "Connection to application service timed out");
      }
      throw new MatrixError(502, "M_CONNECTION_FAILED", "Failed to connect to application service");
    }
    if (res.status < 200 || res.status >= 300) {
      throw new MatrixError(502, "M_BAD_STATUS", "Application service returned non-2xx status", {
        status: res.status,
        body: res.body,
      });
    }
    return { duration_ms: Date.now() - start };
  }

  /** Asks the appservice to create an alias in its namespace (GET /_matrix/app/v1/rooms/{alias}). */
  async queryAlias(alias: string): Promise<boolean> {
    if (this.appservice.reg.url === null) return false;
    try {
      const res = await this.request("GET", `/_matrix/app/v1/rooms/${encodeURIComponent(alias)}`, undefined, this.opts.legacyAccessTokenPush);
      return res.status >= 200 && res.status < 300;
    } catch {
      return false;
    }
  }

  private request(method: string, path: string, body: Json | undefined, legacy: boolean): Promise<HttpResult> {
    const reg = this.appservice.reg;
    const url = new URL(reg.url!.replace(/\/+$/, "") + path);
    const headers: Record<string, string> = {};
    if (legacy) url.searchParams.set("access_token", reg.hs_token);
    else headers["Authorization"] = `Bearer ${reg.hs_token}`;
    const payload = body === undefined ? "" : JSON.stringify(body);
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method, headers, agent: this.opts.agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      this.requests.add(req);
      req.on("close", () => this.requests.delete(req));
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
      req.end(payload);
    });
  }
}
