/** The bridge in its own process, as in production: the bench driver's clients
 *  then never share its event loop. Driven over IPC by bench/run.ts. */
import { runBridge, RunningBridge } from "../src/bridge";
import { parseConfig } from "../src/config/load";
import * as evaluate from "../src/rules/evaluate";
import { UserRules } from "../src/model/rules";
import { HomeserverClient } from "../src/matrix/HomeserverClient";
import { CallerCheck } from "../src/signing/CallerCheck";
import { RequestVerifier } from "../src/signing/RequestVerifier";
import { summary } from "./stats";
import { InboundSetup } from "../src/calls/InboundSetup";
import { SqlSessions } from "../src/store/SqlSessions";
import { PgliteClient } from "../src/store/pglite";

let bridge: RunningBridge | undefined;

// How long each rule decision takes inside the running bridge, by the callee's
// number of rules: RulesService calls the module's `decide` export on every
// call, so it is wrapped here (two performance.now() reads, nothing async).
const decideTimes = new Map<number, number[]>();
const exported = evaluate as { decide: typeof evaluate.decide };
const plainDecide = exported.decide;
exported.decide = (compiled, facts, bridgeDefault) => {
  const t0 = performance.now();
  const decision = plainDecide(compiled, facts, bridgeDefault);
  const t = performance.now() - t0;
  const samples = decideTimes.get(compiled.rules.length);
  if (samples) samples.push(t); else decideTimes.set(compiled.rules.length, [t]);
  return decision;
};

// The same for the signature checks of signed setups: RequestVerifier.verify
// (the WebCall-Signature) and CallerCheck.identify (the chain and who the
// caller is), and how many signed setups came out verified.
const signing = { verify: [] as number[], identify: [] as number[], verified: 0, unverified: 0 };
const plainVerify = RequestVerifier.prototype.verify;
RequestVerifier.prototype.verify = async function (this: RequestVerifier, request) {
  if (request.header === undefined || request.uri.includes("/sessions/")) return plainVerify.call(this, request);
  const t0 = performance.now();
  try {
    return await plainVerify.call(this, request);
  } finally {
    signing.verify.push(performance.now() - t0);
  }
};
const plainIdentify = CallerCheck.prototype.identify;
CallerCheck.prototype.identify = async function (this: CallerCheck, claim) {
  if (claim.signer === undefined) return plainIdentify.call(this, claim);
  const t0 = performance.now();
  const checked = await plainIdentify.call(this, claim);
  signing.identify.push(performance.now() - t0);
  if (checked.identity.verified) signing.verified++; else signing.unverified++;
  return checked;
};

// Every request the bridge makes to the homeserver, by method and path with
// ids and transaction ids elided: how many round trips a warm setup costs,
// beside the one send the floor makes. And for each m.call.invite, when its
// PUT started (on the machine's clock, performance.timeOrigin + now(), which
// the driver shares) and how long it took: where a setup's time goes.
const homeserverRequests = new Map<string, number>();
const inviteSends = new Map<string, { start: number; ms: number }>();
type Request = (method: string, path: string, ...rest: unknown[]) => Promise<unknown>;
const client = HomeserverClient.prototype as unknown as { request: Request };
const plainRequest = client.request;
client.request = async function (this: HomeserverClient, method, path, ...rest) {
  const key = `${method} ${path.split("?")[0]!.split("/").map((seg) => (/%|:|^[!@]/.test(seg) || (seg.includes(".") && !seg.startsWith("m."))) ? "…" : seg).join("/")}`;
  homeserverRequests.set(key, (homeserverRequests.get(key) ?? 0) + 1);
  const invite = /\/send\/m\.call\.invite\/invite\.([^/?]+)/.exec(path);
  const t0 = performance.now();
  const result = await plainRequest.call(this, method, path, ...rest);
  if (invite) inviteSends.set(decodeURIComponent(invite[1]!), { start: performance.timeOrigin + t0, ms: performance.now() - t0 });
  return result;
};

// Marks on the machine's clock along each setup (its session id from the
// request, or the session's): setup() entered, the store insert begun and
// done. With the invite PUT's start, the driver splits the bridge's part.
const marks = new Map<string, { setup?: number; insert?: number; inserted?: number }>();
const at = () => performance.timeOrigin + performance.now();
const plainSetup = InboundSetup.prototype.setup;
InboundSetup.prototype.setup = function (this: InboundSetup, request, rc) {
  if (request.sessionId) marks.set(request.sessionId, { setup: at() });
  return plainSetup.call(this, request, rc);
};
const plainInsert = SqlSessions.prototype.insertSession;
SqlSessions.prototype.insertSession = async function (this: SqlSessions, session, legs) {
  const mark = marks.get(session.id);
  if (mark) mark.insert = at();
  const result = await plainInsert.call(this, session, legs);
  if (mark) mark.inserted = at();
  return result;
};

// Every store statement, by its first words: how many a call costs.
const statements = new Map<string, number>();
const plainQuery = PgliteClient.prototype.query;
PgliteClient.prototype.query = function (this: PgliteClient, text: string, params?: readonly unknown[]) {
  const key = text.replace(/\s+/g, " ").trim().slice(0, 60);
  statements.set(key, (statements.get(key) ?? 0) + 1);
  return plainQuery.call(this, text, params) as never;
} as typeof plainQuery;

process.on("message", async (msg: { id: number; cmd: string; config?: string; registration?: any; appservicePort?: number; userRules?: UserRules }) => {
  try {
    if (msg.cmd === "start") {
      // A homeserver that reads registrations at start-up (Synapse) was told the appservice port beforehand.
      bridge = await runBridge(parseConfig(msg.config!, "bench"), msg.registration, msg.appservicePort ?? 0);
      process.send!({ id: msg.id, result: { appservicePort: bridge.appservicePort, webcallPort: bridge.webcallPort } });
    } else if (msg.cmd === "saveRules") {
      // Straight into the running bridge's store, as a first save; call it
      // before the user is ever called, so no stale decision is cached.
      const saved = await bridge!.store.saveUserRules(msg.userRules!, 0);
      if (!saved) throw new Error(`rules for ${msg.userRules!.userId} were saved before`);
      process.send!({ id: msg.id, result: { saved } });
    } else if (msg.cmd === "times") {
      // Read and start again.
      process.send!({ id: msg.id, result: {
        decide: Object.fromEntries([...decideTimes].map(([rules, samples]) => [rules, summary(samples)])),
        verify: summary(signing.verify), identify: summary(signing.identify), verified: signing.verified, unverified: signing.unverified,
        homeserverRequests: Object.fromEntries(homeserverRequests), inviteSends: Object.fromEntries(inviteSends), marks: Object.fromEntries(marks), statements: Object.fromEntries(statements),
      } });
      decideTimes.clear();
      homeserverRequests.clear();
      inviteSends.clear();
      marks.clear();
      statements.clear();
      Object.assign(signing, { verify: [], identify: [], verified: 0, unverified: 0 });
    } else if (msg.cmd === "memory") {
      const gc = (globalThis as { gc?: () => void }).gc;
      for (let i = 0; i < 3; i++) { gc?.(); await new Promise((r) => setTimeout(r, 100)); }
      process.send!({ id: msg.id, result: { ...process.memoryUsage(), gc: Boolean(gc) } });
    } else if (msg.cmd === "stop") {
      await bridge?.stop();
      process.send!({ id: msg.id });
      process.exit(0);
    }
  } catch (err) {
    process.send!({ id: msg.id, error: (err as Error).message });
  }
});
process.send!({ ready: true });
