import { Request, Response } from "express";
import { sessionOver } from "./httpErrors";
import { pullWaitMs } from "./pullPosition";
import { send } from "./respond";
import { WebCallNode } from "./WebCallNode";

/** Pull by long poll: answer the events after `since` at once, or wait for
 *  one up to `?timeout=` (at most `maxWaitMs`), then answer what there is. */

export interface PullContext {
  node: WebCallNode;
  /** Open streams and polls, each ended by its function when the listener closes. */
  live: Set<() => void>;
}

export async function longPoll(pull: PullContext, maxWaitMs: number, req: Request, res: Response,
  sessionId: string, token: string, since: number): Promise<void> {
  const { node, live } = pull;
  const timeoutMs = pullWaitMs(req, maxWaitMs);
  // Subscribe before the first read, so an event queued in between still wakes us.
  let woken = false;
  let wake: () => void = () => { woken = true; };
  const unsubscribe = node.subscribe(sessionId, () => wake());
  let stop: () => void = () => undefined;
  try {
    let batch = await node.eventsSince(sessionId, token, since);
    while (batch.events.length === 0 && !batch.over) {
      const woke = await new Promise<boolean>((resolve) => {
        if (woken) { woken = false; resolve(true); return; }
        const timer = setTimeout(() => stop(), timeoutMs);
        const cleanupWait = () => { clearTimeout(timer); live.delete(stop); res.off("close", stop); };
        wake = () => { cleanupWait(); resolve(true); };
        // Timeout, client gone or server closing: answer what we have (nothing).
        stop = () => { cleanupWait(); resolve(false); };
        live.add(stop);
        res.once("close", stop);
      });
      wake = () => { woken = true; };
      if (!woke) break;
      batch = await node.eventsSince(sessionId, token, batch.next);
    }
    if (batch.events.length === 0 && batch.over) throw sessionOver();
    send(req, res, "poll-response", { events: batch.events, next: batch.next });
  } finally {
    unsubscribe();
    live.delete(stop);
  }
}
