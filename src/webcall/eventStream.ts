import { Request, Response } from "express";
import { logger } from "../log";
import { SessionEvent } from "../protocol/types";
import { checkResponse } from "../protocol/validate";
import { INTERNAL, sessionOver, webcallAnswer } from "./httpErrors";
import { PullContext } from "./longPoll";
import { ctxOf } from "./requestContext";

/** Pull by Server-Sent Events: every event after `since`, then each as it
 *  is queued, until the session is over, the client leaves or we close. */

const log = logger("webcall.http");

export async function eventStream(pull: PullContext, heartbeatMs: number, req: Request, res: Response,
  sessionId: string, token: string, since: number): Promise<void> {
  const { node, live } = pull;
  const { requestId } = ctxOf(req);
  let dirty = false;
  let pump: () => void = () => { dirty = true; };
  const unsubscribe = node.subscribe(sessionId, () => pump());
  let first;
  try {
    first = await node.eventsSince(sessionId, token, since);
  } catch (error) {
    unsubscribe();
    throw error;
  }
  if (first.events.length === 0 && first.over) {
    unsubscribe();
    throw sessionOver();
  }

  res.status(200);
  res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
  res.setHeader("X-Accel-Buffering", "no");
  res.flushHeaders();
  res.write("retry: 2000\n\n");

  let closed = false;
  let busy = false;
  let next = since;
  const heartbeat = setInterval(() => res.write(": ping\n\n"), heartbeatMs);
  const end = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    unsubscribe();
    live.delete(end);
    res.end();
  };
  live.add(end);
  res.on("close", end);

  /** Writes one batch; the cursor goes on its last event only, because the
   *  node gives one cursor per batch (events before it may be sent again
   *  after a reconnect; receivers deduplicate by event id). */
  const write = (batch: { events: SessionEvent[]; next: number; over: boolean }): void => {
    batch.events.forEach((event, i) => {
      const [ok, problem] = checkResponse("session-event", event);
      if (!ok) throw new Error(`session event fails its schema: ${problem}`);
      const last = i === batch.events.length - 1;
      res.write(`${last ? `id: ${batch.next}\n` : ""}data: ${JSON.stringify(event)}\n\n`);
    });
    next = batch.next;
    if (batch.over) end();
  };

  const run = async (): Promise<void> => {
    if (busy || closed) return;
    busy = true;
    try {
      while (dirty && !closed) {
        dirty = false;
        write(await node.eventsSince(sessionId, token, next));
      }
    } catch (error) {
      if (!closed) {
        // A refusal (4xx) ends the stream with its errcode; anything else is ours.
        const answer = webcallAnswer(error);
        const refused = answer !== undefined && answer.status < 500;
        if (refused) log.info("event stream ended", { requestId, sessionId, errcode: answer.body.errcode });
        else log.error("event stream failed", { requestId, sessionId, error: (error as Error)?.stack ?? String(error) });
        res.write(`event: error\ndata: ${JSON.stringify(refused ? answer.body : INTERNAL)}\n\n`);
        end();
      }
    } finally {
      busy = false;
    }
  };
  pump = () => { dirty = true; void run(); };
  try {
    write(first);
  } catch (error) {
    dirty = false;
    log.error("event stream failed", { requestId, sessionId, error: (error as Error).stack });
    res.write(`event: error\ndata: ${JSON.stringify(INTERNAL)}\n\n`);
    end();
    return;
  }
  if (dirty) void run();
}
