import { logger } from "../log";
import { NodeKeys } from "../signing/NodeKeys";
import { SIGNATURE_HEADER } from "../signing/requestSignature";
import { OutboundError, OutboundHttp } from "../net/outboundHttp";
import { SessionEvent } from "../protocol/types";
import { checkResponse } from "../protocol/validate";

/**
 * Pushes session events to a caller's `notify` node:
 * `POST {notify}/sessions/{sessionId}/events` with the session's bearer token
 * and `{"events": [...]}`, signed by this node for every attempt afresh.
 *
 * One queue per session keeps events in order. A batch that meets a 5xx,
 * 408/429, a timeout or a network error is retried with backoff until its
 * deadline; a 4xx (401, 404, 410, ...) or a refused URL gives up on the
 * session's whole queue, since the other side will not take later events
 * either. Nothing here throws into the caller.
 */

export interface NotifyClientOptions {
  /** How long one batch is retried for, from when it was queued (default 30 s). */
  deadlineMs?: number;
  /** First retry delay; doubles up to maxBackoffMs (defaults 250 ms, 5 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

interface Item {
  events: SessionEvent[];
  queuedAt: number;
  done: (delivered: boolean) => void;
}

interface Queue {
  url: string;
  /** The node's domain, the signature's destination (unsigned when unknown). */
  destination: string | undefined;
  sessionId: string;
  token: string;
  items: Item[];
}

const MAX_EVENTS = 100;
const log = logger("webcall.notify");

export class NotifyClient {
  private readonly queues = new Map<string, Queue>();
  private readonly running = new Set<Promise<void>>();
  private readonly deadlineMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private closed = false;

  constructor(private readonly http: OutboundHttp, private readonly keys: NodeKeys, options: NotifyClientOptions = {}) {
    this.deadlineMs = options.deadlineMs ?? 30_000;
    this.initialBackoffMs = options.initialBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
  }

  /** Queues events for delivery after any earlier ones for the same session.
   *  `destination` is the receiving node's domain; unknown (a caller that did
   *  not sign its setup), the pushes go unsigned rather than signed for a guess.
   *  Resolves true once delivered, false if given up; never rejects. */
  push(notifyUrl: string, sessionId: string, token: string, events: SessionEvent[], destination?: string): Promise<boolean> {
    if (events.length === 0) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    const invalid = events.map((e) => checkResponse("session-event", e)).find(([ok]) => !ok);
    if (invalid) {
      log.error("refusing to push an event that fails its schema", { sessionId, problem: invalid[1] });
      return Promise.resolve(false);
    }
    let url: string;
    try {
      url = `${this.http.checkUrl(notifyUrl).href.replace(/\/+$/, "")}/sessions/${encodeURIComponent(sessionId)}/events`;
    } catch (error) {
      log.warn("not pushing events: notify URL refused", { sessionId, error: (error as Error).message });
      return Promise.resolve(false);
    }

    const key = `${url}\n${token}`;
    let queue = this.queues.get(key);
    const start = !queue;
    if (!queue) {
      queue = { url, destination, sessionId, token, items: [] };
      this.queues.set(key, queue);
    }
    const chunks: Promise<boolean>[] = [];
    for (let i = 0; i < events.length; i += MAX_EVENTS) {
      const chunk = events.slice(i, i + MAX_EVENTS);
      chunks.push(new Promise((done) => queue.items.push({ events: chunk, queuedAt: Date.now(), done })));
    }
    if (start) {
      const run = this.drain(key, queue).catch((error: unknown) => {
        log.error("notify queue failed", { sessionId, error: (error as Error)?.stack ?? String(error) });
      }).finally(() => this.running.delete(run));
      this.running.add(run);
    }
    return Promise.all(chunks).then((results) => results.every(Boolean));
  }

  /** Resolves when every queue is empty (delivered or given up). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Stops retrying: queued events are given up. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  private async drain(key: string, queue: Queue): Promise<void> {
    try {
      while (queue.items.length > 0 && !this.closed) {
        // Coalesce what is queued, in order, up to one body's worth of events.
        const batch: Item[] = [];
        let count = 0;
        for (const item of queue.items) {
          if (count + item.events.length > MAX_EVENTS) break;
          batch.push(item);
          count += item.events.length;
        }
        const delivered = await this.deliver(queue, batch);
        queue.items.splice(0, batch.length);
        for (const item of batch) item.done(delivered === "ok");
        if (delivered === "gone") {
          for (const item of queue.items.splice(0)) item.done(false);
        }
      }
    } finally {
      this.queues.delete(key);
      for (const item of queue.items.splice(0)) item.done(false);
    }
  }

  /** "ok", "expired" (deadline passed; later items are still tried), or
   *  "gone" (the other side refuses this session: drop the queue). */
  private async deliver(queue: Queue, batch: Item[]): Promise<"ok" | "expired" | "gone"> {
    const events = batch.flatMap((item) => item.events);
    const deadline = (batch[0]?.queuedAt ?? Date.now()) + this.deadlineMs;
    const fields = { sessionId: queue.sessionId, events: events.length };
    for (let attempt = 0; ; attempt++) {
      try {
        const body = { events };
        await this.http.postJson(queue.url, body, {
          Authorization: `Bearer ${queue.token}`,
          ...(queue.destination ? { [SIGNATURE_HEADER]: this.keys.signatureHeader("POST", queue.url, queue.destination, body) } : {}),
        });
        return "ok";
      } catch (error) {
        const e = error instanceof OutboundError ? error : new OutboundError("network", String(error));
        const retryable = e.code === "timeout" || e.code === "network"
          || (e.code === "http_status" && e.status !== undefined && (e.status >= 500 || e.status === 408 || e.status === 429));
        if (!retryable) {
          log.warn("notify push refused; giving up on this session", { ...fields, code: e.code, status: e.status, error: e.message });
          return "gone";
        }
        const backoff = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** attempt);
        const wait = Math.max(backoff, Math.min(e.retryAfterMs ?? 0, this.maxBackoffMs));
        if (this.closed || Date.now() + wait > deadline) {
          log.warn("notify push failed; giving up after retries", { ...fields, attempts: attempt + 1, code: e.code, status: e.status, error: e.message });
          return "expired";
        }
        log.debug("notify push failed; will retry", { ...fields, attempt: attempt + 1, code: e.code, status: e.status, waitMs: wait });
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }
}
