/**
 * Signing between nodes (docs/webcall-signing.md), and the caller's node the
 * bench's signed calls come from.
 *
 * `startCallerNode` is a WebCall node for the callers' domain as far as the
 * bridge can tell: its Ed25519 keys live in a real store (embedded PGlite in
 * a temporary directory) and are published at `{endpoint}/keys`; it accepts
 * the session events the bridge pushes to its `notify` endpoint. Its setups
 * are built as OutboundPlacement builds them (notify, via, and the chain's
 * `placed` hop) and signed with a fresh WebCall-Signature each.
 *
 * `measureSigning` times, one request at a time, for such a setup (the
 * bench's SDP offer, callerId, calleeId, sessionId, token, lifetime, notify,
 * via and a one-hop chain):
 *  - signing: canonical JSON + Ed25519 (`NodeKeys.signatureHeader`);
 *  - verifying: `RequestVerifier.verify` with the caller node's keys cached
 *    (every request freshly signed, so the replay guard accepts each one);
 *  - both, as one span: the cost of a signed request to the two nodes;
 *  - `CallerCheck.identify` for the directly verified caller with its
 *    one-hop chain, keys cached;
 *  - the chain's hop (`extendChain`), and a whole signed call on both nodes;
 *  - for contrast, a verify from a node whose keys are not cached yet (a
 *    fresh KeyRing each time: `GET {endpoint}/keys` over loopback).
 */
import express from "express";
import http from "node:http";
import { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { parseConfig } from "../src/config/load";
import { Address } from "../src/ids/address";
import { Authority } from "../src/signing/Authority";
import { CallerCheck } from "../src/signing/CallerCheck";
import { extendChain, PLACED } from "../src/signing/chain";
import { KeyRing } from "../src/signing/KeyRing";
import { NodeKeys } from "../src/signing/NodeKeys";
import { IncomingRequest, RequestVerifier } from "../src/signing/RequestVerifier";
import { SIGNATURE_HEADER, signedText } from "../src/signing/requestSignature";
import { openStore } from "../src/store";
import { NodeDiscovery } from "../src/net/discovery";
import { OutboundHttp } from "../src/net/outboundHttp";
import { SessionDescription } from "../src/protocol/types";
import { SetupRequest } from "../src/protocol/types";
import { Stats, timeAsync, timeSync } from "./stats";

const DAY_MS = 86_400_000;

/** One node's signing keys, kept in a real store as the bridge keeps its own. */
async function openKeys(domain: string): Promise<{ keys: NodeKeys; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "webcall-bench-keys-"));
  const store = await openStore({ dataDir: dir });
  const keys = await NodeKeys.open(store, domain, { rotateAfterMs: 0, oldKeyRetentionMs: 7 * DAY_MS, publishForMs: DAY_MS });
  return { keys, close: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
}

export interface CallerNode {
  /** The domain it signs as (its origin). */
  readonly domain: string;
  readonly keys: NodeKeys;
  /** Its WebCall endpoint: GET {url}/keys, POST {url}/sessions/{id}/events. */
  readonly url: string;
  /** How many session-event pushes it has received. */
  readonly pushes: number;
  close(): Promise<void>;
}

export async function startCallerNode(domain: string): Promise<CallerNode> {
  const { keys, close } = await openKeys(domain);
  let pushes = 0;
  const app = express();
  app.get("/webcall/keys", (_req, res) => { res.json(keys.document()); });
  app.post("/webcall/sessions/:id/events", express.json({ limit: "1mb" }), (_req, res) => { pushes++; res.json({}); });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webcall`;
  return {
    domain: keys.origin, keys, url,
    get pushes() { return pushes; },
    async close() { server.closeAllConnections(); server.close(); await close(); },
  };
}

export interface SetupFields {
  callerId: string;
  calleeId: string;
  sessionId: string;
  token: string;
  offer: SessionDescription;
}

/** The setup the caller's node sends, as OutboundPlacement builds it: it
 *  starts the chain with the `placed` hop from its caller to the callee. */
export function placedSetup(node: CallerNode, f: SetupFields): SetupRequest {
  return {
    ...f, lifetime: 120_000, notify: node.url, via: [node.domain],
    chain: extendChain(node.keys, [], { from: f.callerId, to: f.calleeId, reason: PLACED, ts: Date.now() }),
  };
}

/** The headers of a POST of `body` to `url` on the node `destination`, signed afresh. */
export function signedHeaders(keys: NodeKeys, url: string, destination: string, body: unknown): Record<string, string> {
  return { [SIGNATURE_HEADER]: keys.signatureHeader("POST", url, destination, body) };
}

export interface SigningReport {
  n: number;
  bodyBytes: number;
  signedBytes: number;
  canonical: Stats;
  sign: Stats;
  verify: Stats;
  signVerify: Stats;
  hop: Stats;
  identify: Stats;
  wholeCall: Stats;
  cold: Stats;
}

/** Runs in this process; `caller` publishes the keys the receiving side fetches. */
export async function measureSigning(opts: {
  caller: CallerNode; callerId: string; calleeId: string; offer: SessionDescription; iterations?: number; coldIterations?: number;
}): Promise<SigningReport> {
  const { caller } = opts;
  const n = opts.iterations ?? 5_000, warmup = 500, coldN = opts.coldIterations ?? 200;
  const destination = opts.calleeId.slice(opts.calleeId.lastIndexOf("@") + 1).toLowerCase();
  const endpoint = `https://webcall.${destination}/webcall`; // where the setup is POSTed; its path is what is signed
  const uri = new URL(endpoint).pathname;
  // The receiving node, wired as src/bridge.ts wires it, with the config's defaults.
  const config = parseConfig(yaml.dump({
    homeserver: { url: "http://127.0.0.1:8008", domain: destination },
    webcall: { publicUrl: endpoint },
    outbound: { allowHttp: true, allowPrivateNetworks: true, nodes: { [caller.domain]: caller.url } },
  }), "bench signing");
  const own = await openKeys(destination);
  const outbound = new OutboundHttp(config.outbound);
  const discovery = new NodeDiscovery(outbound, config.outbound);
  const keyring = new KeyRing(outbound, discovery, config.signing, own.keys);
  const verifies = 3 * (warmup + n) + coldN + 1;
  if (verifies > config.signing.replayCacheSize) throw new Error(`${verifies} signatures would overflow the replay guard`);
  const verifier = new RequestVerifier(keyring, destination, config.signing.replayCacheSize);
  const callers = new CallerCheck(keyring, new Authority(discovery));
  try {
    let seq = 0;
    const fields = (): SetupFields => ({
      callerId: opts.callerId, calleeId: opts.calleeId, offer: opts.offer,
      sessionId: `sign-${seq++}-${randomBytes(8).toString("hex")}`, token: randomBytes(24).toString("base64url"),
    });
    /** `count` fresh setups, each with its own chain (built before the timing starts). */
    const setups = (count: number): SetupRequest[] => Array.from({ length: count }, () => placedSetup(caller, fields()));
    const incoming = (content: SetupRequest, header: string): IncomingRequest => ({ method: "POST", uri, header, content });
    const sign = (body: SetupRequest): string => caller.keys.signatureHeader("POST", endpoint, destination, body);
    const expectSigner = (signer: string | undefined): void => {
      if (signer !== caller.domain) throw new Error(`a good signature was not accepted (signer ${signer})`);
    };

    const sample = placedSetup(caller, fields());
    const sampleText = signedText({ method: "POST", uri, origin: caller.domain, destination, content: sample, ts: Date.now() });
    // The first verify fetches the caller node's keys; from then on they are cached.
    expectSigner(await verifier.verify(incoming(JSON.parse(JSON.stringify(sample)) as SetupRequest, sign(sample))));

    let bodies = setups(warmup + n), i = 0;
    const canonical = timeSync(warmup, n, () => signedText({ method: "POST", uri, origin: caller.domain, destination, content: bodies[i++]!, ts: Date.now() }));
    i = 0;
    const sign1 = timeSync(warmup, n, () => sign(bodies[i++]!));

    // Signed before the timing starts; each verified once (a second time would be a replay).
    const signed = setups(warmup + n).map((b) => incoming(b, sign(b)));
    i = 0;
    const verify = await timeAsync(warmup, n, async () => expectSigner(await verifier.verify(signed[i++]!)));

    bodies = setups(warmup + n); i = 0;
    const signVerify = await timeAsync(warmup, n, async () => {
      const body = bodies[i++]!;
      expectSigner(await verifier.verify(incoming(body, sign(body))));
    });

    const f = fields();
    const hop = timeSync(warmup, n, () => extendChain(caller.keys, [], { from: f.callerId, to: f.calleeId, reason: PLACED, ts: Date.now() }));

    bodies = setups(warmup + n); i = 0;
    const identify = await timeAsync(warmup, n, async () => {
      const body = bodies[i++]!;
      const { identity } = await callers.identify({ caller: body.callerId as Address, callee: body.calleeId as Address, signer: caller.domain, chain: body.chain });
      if (!identity.verified || identity.verifiedBy !== caller.domain) throw new Error(`the caller was not verified: ${JSON.stringify(identity)}`);
    });

    // A whole signed call: the caller's node adds its hop and signs; the receiver verifies and identifies.
    const plain = Array.from({ length: warmup + n }, fields); i = 0;
    const wholeCall = await timeAsync(warmup, n, async () => {
      const body = placedSetup(caller, plain[i++]!);
      const signer = await verifier.verify(incoming(body, sign(body)));
      const { identity } = await callers.identify({ caller: body.callerId as Address, callee: body.calleeId as Address, signer, chain: body.chain });
      if (!identity.verified) throw new Error("the caller was not verified");
    });

    // A node whose keys are not cached: a fresh KeyRing fetches them for its first verify.
    const coldSigned = setups(coldN + 10).map((b) => incoming(b, sign(b)));
    i = 0;
    const cold = await timeAsync(10, coldN, async () => {
      const ring = new KeyRing(outbound, discovery, config.signing, own.keys);
      expectSigner(await new RequestVerifier(ring, destination, 1000).verify(coldSigned[i++]!));
    });

    return {
      n, bodyBytes: Buffer.byteLength(JSON.stringify(sample)), signedBytes: Buffer.byteLength(sampleText),
      canonical, sign: sign1, verify, signVerify, hop, identify, wholeCall, cold,
    };
  } finally {
    outbound.close();
    await own.close();
  }
}

const us = (v: number): string => `${(v * 1000).toFixed(1)} µs`;

export function signingReportLines(r: SigningReport, callerDomain: string): string[] {
  const line = (label: string, s: Stats, note = "") =>
    `  ${label.padEnd(52)} median ${us(s.median).padStart(9)}   p99 ${us(s.p99).padStart(9)}${note ? `   ${note}` : ""}`;
  return [
    `signing (Ed25519, docs/webcall-signing.md): a setup as a caller's node sends it (offer, ids, token, notify, via, the placed hop;`,
    `  ${r.bodyBytes} bytes of JSON, ${r.signedBytes} bytes signed), ${r.n.toLocaleString("en-US")} requests per line, each signed afresh, timed one by one`,
    line("sign: canonical JSON + Ed25519 (signatureHeader)", r.sign),
    line("  of which canonical JSON (signedText)", r.canonical),
    line("verify: RequestVerifier.verify, keys cached", r.verify, "(header, skew, canonical JSON, key, Ed25519, replay guard)"),
    line("sign + verify one request", r.signVerify, `(target < 500 µs: ${r.signVerify.median < 0.5 && r.signVerify.p99 < 0.5 ? "met, median and p99" : r.signVerify.median < 0.5 ? "met by the median" : "NOT MET"})`),
    line("chain: extendChain, the placed hop", r.hop),
    line("CallerCheck.identify: direct caller, one-hop chain", r.identify, `(keys cached; verified by ${callerDomain})`),
    line("a whole signed call: hop + sign + verify + identify", r.wholeCall, "(the caller's node and this one together)"),
    line("verify from a node not cached (GET {endpoint}/keys)", r.cold, "(a fresh KeyRing each time; loopback HTTP)"),
  ];
}
