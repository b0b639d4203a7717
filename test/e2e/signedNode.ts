import express from "express";
import http from "node:http";
import { SIGNATURE_HEADER, formatSignatureHeader, signedText } from "../../src/signing/requestSignature";
import { extendChain, PLACED } from "../../src/signing/chain";
import { Hop } from "../../src/protocol/types";
import { NodeSigning } from "../signing/nodeSigning";
import { waitFor } from "./fixture";
import { eventId, HttpResult } from "./webcallClient";

export interface ReceivedPush { sessionId: string; events: any[]; signer: string | undefined; status: number }

/**
 * Another WebCall node in the test tree that signs what it sends, with its
 * own Ed25519 key in its own store: a caller's node (employer.com) or an
 * attacker (evil.example). It publishes its keys at {url}/keys, answers
 * setups with success, and records the session events pushed to it along
 * with whose signature they carried (checked with its own verifier).
 */
export class SignedNode {
  readonly pushes: ReceivedPush[] = [];

  private constructor(readonly signing: NodeSigning, private readonly server: http.Server, readonly url: string) {}

  get domain(): string {
    return this.signing.domain;
  }

  /** `nodes`: the other nodes' endpoints by domain (to check their signatures). */
  static async start(domain: string, port: number, nodes: Record<string, string>): Promise<SignedNode> {
    const signing = await NodeSigning.open(domain, nodes);
    const app = express();
    app.use(express.json({ limit: "1mb" }));
    const server = http.createServer(app);
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    const node = new SignedNode(signing, server, `http://127.0.0.1:${port}/webcall`);
    app.get("/webcall/keys", (_req, res) => { res.json(signing.keys.document()); });
    app.post("/webcall", (req, res) => {
      res.json({ status: "success", sessionId: req.body.sessionId, token: req.body.token });
    });
    app.post("/webcall/sessions/:id/events", async (req, res) => {
      let signer: string | undefined;
      let status = 200;
      try {
        signer = await signing.verifier.verify({ method: req.method, uri: req.originalUrl, header: req.get(SIGNATURE_HEADER), content: req.body });
      } catch {
        status = 401;
      }
      node.pushes.push({ sessionId: req.params.id, events: req.body.events, signer, status });
      if (status === 401) return void res.status(401).json({ errcode: "WEBCALL_BAD_SIGNATURE", error: "bad signature" });
      res.json({});
    });
    return node;
  }

  /** A signature header for a request as this node would send it; `ts` and `origin` may be forged. */
  header(method: string, url: string, destination: string, content: unknown, forge: { ts?: number; origin?: string } = {}): string {
    const { pathname, search } = new URL(url);
    const ts = forge.ts ?? Date.now();
    const origin = forge.origin ?? this.domain;
    const { key, sig } = this.signing.keys.sign(signedText({ method, uri: `${pathname}${search}`, origin, destination, content, ts }));
    return formatSignatureHeader({ origin, destination, key, ts, sig });
  }

  /** The first hop of a chain, as the caller's node starts it. */
  placed(from: string, to: string): Hop[] {
    return extendChain(this.signing.keys, [], { from, to, reason: PLACED, ts: Date.now() });
  }

  /** Appends a hop signed by this node (honestly or not: `by` may name another node). */
  hop(prior: readonly Hop[], step: { from: string; to: string; reason: string; by?: string }): Hop[] {
    const chain = extendChain(this.signing.keys, prior, { from: step.from, to: step.to, reason: step.reason, ts: Date.now() });
    if (step.by) {
      const last = chain[chain.length - 1]!;
      chain[chain.length - 1] = { ...last, by: step.by };
    }
    return chain;
  }

  /** POSTs `body` signed for `destination`; `send` may differ from what was signed (tampering). */
  async post(url: string, destination: string, body: unknown, options: { send?: unknown; ts?: number; origin?: string; header?: string } = {}): Promise<HttpResult & { header: string }> {
    const header = options.header ?? this.header("POST", url, destination, body, options);
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", [SIGNATURE_HEADER]: header },
      body: JSON.stringify(options.send ?? body),
    });
    const text = await res.text();
    let parsed: unknown;
    try { parsed = JSON.parse(text); } catch { parsed = undefined; }
    return { status: res.status, body: parsed, headers: res.headers, header };
  }

  /** Sends session events for a session this node set up at `bridgeUrl`, signed. */
  send(bridgeUrl: string, destination: string, sessionId: string, token: string, events: object[]): Promise<Response> {
    const url = `${bridgeUrl}/sessions/${encodeURIComponent(sessionId)}/events`;
    const body = { events: events.map((e) => ({ id: eventId(), ...e })) };
    return fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, [SIGNATURE_HEADER]: this.header("POST", url, destination, body) },
      body: JSON.stringify(body),
    });
  }

  waitForPush(sessionId: string, type: string, timeoutMs = 10_000): Promise<ReceivedPush> {
    return waitFor(() => this.pushes.find((p) => p.sessionId === sessionId && p.events.some((e) => e.type === type)), timeoutMs,
      `a ${type} pushed to ${this.domain}`);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
    await this.signing.close();
  }
}
