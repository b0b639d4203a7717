import express from "express";
import http from "node:http";
import { AddressInfo } from "node:net";
import { waitFor } from "./fixture";
import { eventId, postJson } from "./webcallClient";

export interface ReceivedSetup { body: any; at: number }
export type SetupScript = (body: any, attempt: number) => Promise<{ status: number; body: unknown; delayMs?: number }> | { status: number; body: unknown; delayMs?: number };

/**
 * A WebCall/1 node in the test tree: the far end of the bridge's outbound
 * calls. It records the setups and session events it receives, answers setups
 * as scripted (success by default), and sends session events back to the
 * caller's `notify` endpoint with the session's token.
 */
export class TestWebCallNode {
  readonly setups: ReceivedSetup[] = [];
  readonly events = new Map<string, any[]>();
  script: SetupScript = (body) => ({ status: 200, body: { status: "success", sessionId: body.sessionId, token: body.token } });
  private attempts = new Map<string, number>();

  private constructor(private readonly server: http.Server, readonly url: string) {}

  static async start(): Promise<TestWebCallNode> {
    const app = express();
    app.use(express.json({ limit: "1mb" }));
    const server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const node = new TestWebCallNode(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/webcall`);
    app.post("/webcall", async (req, res) => {
      node.setups.push({ body: req.body, at: performance.now() });
      const attempt = (node.attempts.get(req.body.sessionId) ?? 0) + 1;
      node.attempts.set(req.body.sessionId, attempt);
      const answer = await node.script(req.body, attempt);
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      res.status(answer.status).json(answer.body);
    });
    app.post("/webcall/sessions/:id/events", (req, res) => {
      const setup = node.setups.find((s) => s.body.sessionId === req.params.id);
      if (!setup) return void res.status(404).json({ errcode: "WEBCALL_UNKNOWN_SESSION", error: "no such session" });
      if (req.headers.authorization !== `Bearer ${setup.body.token}`) return void res.status(401).json({ errcode: "WEBCALL_BAD_TOKEN", error: "bad token" });
      const list = node.events.get(req.params.id) ?? [];
      list.push(...req.body.events);
      node.events.set(req.params.id, list);
      res.json({});
    });
    return node;
  }

  waitForSetup(predicate: (body: any) => boolean = () => true, timeoutMs = 10_000): Promise<any> {
    return waitFor(() => this.setups.find((s) => predicate(s.body))?.body, timeoutMs, "a setup at the test node");
  }

  waitForEvent(sessionId: string, type: string, timeoutMs = 10_000): Promise<any> {
    return waitFor(() => this.events.get(sessionId)?.find((e) => e.type === type), timeoutMs, `a ${type} event at the test node`);
  }

  /** Sends session events to the caller's node, as the setup's `notify` and `token` say. */
  send(setup: any, events: object[]) {
    return postJson(`${setup.notify}/sessions/${encodeURIComponent(setup.sessionId)}/events`,
      { events: events.map((e) => ({ id: eventId(), ...e })) }, { authorization: `Bearer ${setup.token}` });
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
