/**
 * The bridge's benchmark: one command, one run, every figure.
 *   npm run bench [-- --store postgres] [-- --iterations 300] [-- --signing-iterations 5000] [-- --neutral-calls 200] [-- --only neutral|rota|warm|callpage]
 *
 * 1. Inbound warm path: POST /webcall → m.call.invite in the callee's /sync,
 *    against the same homeserver send done directly (the floor), for a
 *    callee without rules and for one with 1,000 rules none of which matches,
 *    both called with signed setups, for a call to an on-call rota whose
 *    person on call is the first callee, and for contrast an unsigned call.
 * 2. Call setups per second with 100 concurrent (signing) callers.
 * 3. Memory per ringing call.
 * 4. Outbound warm path: a Matrix user's invite → POST /webcall at the
 *    callee's node, against the homeserver's own push time (the floor).
 * 5. Rule evaluation with 1,000 rules for one user (bench/rules.ts), once the
 *    bridge has stopped, on the same store.
 * 6. Signing plus verifying one setup, and identifying its caller
 *    (bench/signing.ts), in this process.
 * 7. Neutral refusal: how long could_not_attend takes for a refused, an
 *    unknown and an offline callee, in mixed bursts, one at a time and in
 *    bursts of one kind, and whether a two-sample KS test tells them apart
 *    (bench/neutral.ts), while the bridge runs; `--only neutral` runs this
 *    section alone.
 * 8. Deciding who to ring for a call to a rota: 100 rotas of 50 members and
 *    20 overrides each (bench/rota.ts), in this process; `--only rota` runs
 *    this section alone, without a homeserver or a bridge.
 * 9. The call link page in headless Chromium: pressing Call to the invite in
 *    /sync, against the same call without the page, and the page's transfer
 *    size (bench/callPage.ts); `--only callpage` runs this section alone.
 * The test homeserver and the bridge each run in a child process; this
 * process only drives them, as a caller and a callee would from outside.
 * The callers' node is this process too (bench/signing.ts): it publishes
 * employer.com's keys, and the bridge's config names it as employer.com's
 * node, so the bridge checks every signed setup against them.
 * With `--homeserver synapse`, bench/synapse.ts measures 1, 2 and 4 against
 * real Synapse instead, each beside Synapse's own time for the same sends.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import yaml from "js-yaml";
import { Client } from "pg";
import { Child } from "./child";
import { SyncWatcher } from "./syncWatcher";
import { ms, summary } from "./stats";
import { realisticOffer } from "./sdp";
import { measureOutbound, startRemoteNode } from "./outbound";
import { BENCH_CALLER, RULE_COUNT, manyRules, measureRules, rulesReportLines, userRules } from "./rules";
import { measureNeutral, neutralReportLines } from "./neutral";
import { CallerNode, measureSigning, placedSetup, signedHeaders, signingReportLines, startCallerNode } from "./signing";
import { runOnSynapse } from "./synapse";
import { measureRota, rotaReportLines } from "./rota";
import { callPageReportLines, measureCallPage } from "./callPage";
import { Marks, phaseLines, warmPathPhases } from "./phases";
import { cpuMeter } from "./cpu";
import { setLogLevel } from "../src/log";
import { MatrixUserId } from "../src/ids/matrix";

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1]! : fallback; };
const STORE = arg("store", "pglite");
const ITERATIONS = Number(arg("iterations", "300"));
const CONCURRENCY = 100;
const SETUPS = Number(arg("setups", "3000"));
const RINGING = Number(arg("ringing", "1000"));
const SIGNING_ITERATIONS = Number(arg("signing-iterations", "5000"));
const NEUTRAL_CALLS = Number(arg("neutral-calls", "200"));
const PAGE_CALLS = Number(arg("page-calls", "40"));
/** `--only neutral` / `--only rota` / `--only warm` / `--only callpage`: that section alone. */
const ONLY = arg("only", "");
/** calls.neutralAnswerMs, as in production (its default). */
const NEUTRAL_FLOOR_MS = 300;
const SERVER = "example.org";
const PG_URL = process.env.WEBCALL_TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test";
const OFFER = { type: "offer" as const, sdp: realisticOffer() };
/** The domain of the bench's callers, whose node (in this process) signs their setups. */
const CALLER_DOMAIN = BENCH_CALLER.slice(BENCH_CALLER.indexOf("@") + 1);
/** The contrast: a caller whose setups are not signed (so never verified). */
const UNSIGNED_CALLER = "alf@unsigned.bench";

const progress = (what: string) => process.stderr.write(`bench: ${what}\n`);

async function postFull(url: string, body: object, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function post(url: string, body: object, headers: Record<string, string> = {}): Promise<any> {
  return (await postFull(url, body, headers)).body;
}

async function main(): Promise<void> {
  // --only rota: the schedule alone, pure code: no homeserver, no bridge.
  if (ONLY === "rota") {
    process.stdout.write([`matrix-appservice-webcall bench — node ${process.version}, rotas only`, ``, ...rotaReportLines(measureRota())].join("\n") + "\n");
    return;
  }
  // --only callpage: the call link page alone, with its own homeserver and bridge.
  if (ONLY === "callpage") {
    const lines = [`matrix-appservice-webcall bench — node ${process.version}, call link page only`, ``, ...callPageReportLines(await measureCallPage(PAGE_CALLS))];
    process.stdout.write(lines.join("\n") + "\n");
    process.exit(0);
  }
  const remote = await startRemoteNode();
  const callerNode: CallerNode = await startCallerNode(CALLER_DOMAIN);
  const hs = await Child.start("homeserverProcess.ts", SERVER);
  const hsUrl: string = hs.ready.url;
  const dataDir = mkdtempSync(join(tmpdir(), "webcall-bench-"));
  let databaseUrl: string | undefined;
  const pgSchema = `webcall_bench_${randomBytes(4).toString("hex")}`;
  if (STORE === "postgres") {
    const admin = new Client({ connectionString: PG_URL });
    await admin.connect(); await admin.query(`CREATE SCHEMA ${pgSchema}`); await admin.end();
    databaseUrl = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${pgSchema}`)}`;
  }
  const configYaml = yaml.dump({
    homeserver: { url: hsUrl, domain: SERVER },
    webcall: { bind: "127.0.0.1", port: 0, publicUrl: "http://127.0.0.1/webcall", rateLimit: { max: 1_000_000 } },
    calls: { defaultLifetimeMs: 120000, neutralAnswerMs: NEUTRAL_FLOOR_MS },
    // The production default: only verified callers ring, so every signed
    // call that rings was verified (an unsigned one is could_not_attend).
    rules: { defaultAction: "ring_verified" },
    outbound: { allowHttp: true, allowPrivateNetworks: true, nodes: { "remote.bench": remote.url, [CALLER_DOMAIN]: callerNode.url } },
    database: { dataDir, ...(databaseUrl ? { url: databaseUrl } : {}) },
    logging: { level: process.env.WEBCALL_BENCH_LOG ?? "error" },
  });
  const registration = { id: "webcall", as_token: randomBytes(16).toString("hex"), hs_token: randomBytes(16).toString("hex"), sender_localpart: "webcall" };
  const bridge = await Child.start("bridgeProcess.ts", SERVER, ["--expose-gc", ...(process.env.WEBCALL_BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.WEBCALL_BENCH_PROFILE}`] : [])]);
  const ports = await bridge.call("start", { config: configYaml, registration });
  await hs.call("registerAppservice", { reg: { ...registration, url: `http://127.0.0.1:${ports.appservicePort}`, rate_limited: false, namespaces: { users: [{ exclusive: true, regex: "@webcall_.*:example\\.org" }] } } });
  const endpoint = `http://127.0.0.1:${ports.webcallPort}/webcall`;
  const alice = await hs.call("createUser", { localpart: "alice" });
  const sync = new SyncWatcher(hsUrl, alice.accessToken);
  await sync.start();
  // carol has 1,000 rules, none matching the (verified) caller: each of her
  // calls checks them all, then the default rings. ("bob" is the outbound
  // bench's user.) Saved before she is ever called, so nothing stale is cached.
  const carol = await hs.call("createUser", { localpart: "carol" });
  const carolSync = new SyncWatcher(hsUrl, carol.accessToken);
  await carolSync.start();
  const carolRules = manyRules(RULE_COUNT, BENCH_CALLER, Date.now(), true);
  await bridge.call("saveRules", { userRules: userRules(carol.userId as MatrixUserId, carolRules) });
  // dave has no rules and his own default rings everyone: the unsigned contrast.
  const dave = await hs.call("createUser", { localpart: "dave" });
  const daveSync = new SyncWatcher(hsUrl, dave.accessToken);
  await daveSync.start();
  await bridge.call("saveRules", { userRules: { ...userRules(dave.userId as MatrixUserId, []), defaultAction: "ring" } });
  // rita's own default refuses everyone; olga has no rules (verified callers ring): the neutral refusal bench's callees.
  const rita = await hs.call("createUser", { localpart: "rita" });
  await bridge.call("saveRules", { userRules: { ...userRules(rita.userId as MatrixUserId, []), defaultAction: "refuse" } });
  await hs.call("createUser", { localpart: "olga" });
  const asHeaders = { authorization: `Bearer ${registration.as_token}`, "content-type": "application/json" };

  /** A setup from `caller`; `signed`: as the caller's node sends it (placed hop, fresh signature). */
  function setup(caller: string, calleeId: string, signed: boolean, sessionId?: string, token?: string): { body: object; headers: Record<string, string> } {
    const fields = { callerId: caller, calleeId, offer: OFFER, sessionId: sessionId ?? `s-${randomBytes(10).toString("hex")}`, token: token ?? randomBytes(24).toString("base64url") };
    if (!signed) return { body: fields, headers: {} };
    const body = placedSetup(callerNode, fields);
    return { body, headers: signedHeaders(callerNode.keys, endpoint, SERVER, body) };
  }

  /** The caller hangs up (its node signs the push when its setup was signed). */
  async function hangup(sessionId: string, token: string, signed = true): Promise<void> {
    const url = `${endpoint}/sessions/${sessionId}/events`;
    const body = { events: [{ id: randomBytes(6).toString("hex"), type: "hangup", reason: "user_hangup" }] };
    const res = await postFull(url, body, { authorization: `Bearer ${token}`, ...(signed ? signedHeaders(callerNode.keys, url, SERVER, body) : {}) });
    if (res.status !== 200) throw new Error(`hangup failed: ${res.status} ${JSON.stringify(res.body)}`);
  }

  /** A Matrix user calls are made to, with their /sync. */
  interface Callee { user: { userId: string; accessToken: string }; address: string; sync: SyncWatcher; joined: Set<string> }
  const aliceCallee: Callee = { user: alice, address: "alice@example.org", sync, joined: new Set() };
  const carolCallee: Callee = { user: carol, address: "carol@example.org", sync: carolSync, joined: new Set() };
  const daveCallee: Callee = { user: dave, address: "dave@example.org", sync: daveSync, joined: new Set() };
  // The rota ops@example.org: alice alone is on call, so a call to it rings her in her DM with the caller.
  await bridge.call("createRota", { rota: { name: "ops", member: alice.userId, homeserverUrl: hsUrl, domain: SERVER } });
  const rotaCallee: Callee = { ...aliceCallee, address: `ops@${SERVER}` };

  /** First contact from a caller: the callee joins the DM the bridge invites them to. */
  async function newInvite(callee: Callee): Promise<string> {
    for (let i = 0; i < 500; i++) {
      const body = await (await fetch(`${hsUrl}/_matrix/client/v3/sync?timeout=0&filter=${encodeURIComponent('{"room":{"timeline":{"limit":0}}}')}`, { headers: { authorization: `Bearer ${callee.user.accessToken}` } })).json() as any;
      const roomId = Object.keys(body.rooms?.invite ?? {}).find((r) => !callee.joined.has(r));
      if (roomId) { callee.joined.add(roomId); return roomId; }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no invite for ${callee.address}`);
  }

  async function warmCaller(caller: string, callee: Callee = aliceCallee, signed = true): Promise<string> {
    const { body, headers } = setup(caller, callee.address, signed);
    const res = await post(endpoint, body, headers);
    if (res.status !== "success") throw new Error(`warm-up call from ${caller} to ${callee.address} failed: ${JSON.stringify(res)}`);
    const roomId = await newInvite(callee);
    const rang = callee.sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === res.sessionId);
    await fetch(`${hsUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/join`, { method: "POST", headers: { authorization: `Bearer ${callee.user.accessToken}`, "content-type": "application/json" }, body: "{}" });
    await rang;
    await hangup(res.sessionId, res.token, signed);
    return roomId;
  }

  // Warm-up: alice and carol each get their DM with alf (registration, room and
  // join cached; employer.com's keys fetched), dave his with the unsigned caller.
  const roomOf = new Map<string, string>();
  roomOf.set(BENCH_CALLER, await warmCaller(BENCH_CALLER));
  await warmCaller(BENCH_CALLER, carolCallee);
  await warmCaller(UNSIGNED_CALLER, daveCallee, false);
  const dmRoom = roomOf.get(BENCH_CALLER)!;
  const virtualOf = (caller: string) => `@webcall_${caller.replace("@", "=40")}:${SERVER}`;
  const virtualAlf = virtualOf(BENCH_CALLER);

  async function stopChildren(): Promise<void> {
    await sync.stop();
    await carolSync.stop();
    await daveSync.stop();
    await bridge.call("stop").catch(() => undefined);
    await hs.call("stop").catch(() => undefined);
    remote.close();
  }
  async function dropStore(): Promise<void> {
    rmSync(dataDir, { recursive: true, force: true });
    if (STORE === "postgres") {
      const admin = new Client({ connectionString: PG_URL });
      await admin.connect(); await admin.query(`DROP SCHEMA ${pgSchema} CASCADE`); await admin.end();
    }
  }
  /** 7. Neutral refusal, while the bridge runs (employer.com's keys were fetched in the warm-up). */
  async function neutralSection(): Promise<string[]> {
    progress(`neutral refusal: ${NEUTRAL_CALLS} calls each to a refused, an unknown and an offline callee: mixed bursts, one at a time, bursts of one kind`);
    const offline = `@olga:${SERVER}`;
    await hs.call("unreachableUser", { userId: offline, down: true });
    const report = await measureNeutral({
      endpoint, calls: NEUTRAL_CALLS,
      callee: (kind, n) => ({ refused: `rita@${SERVER}`, unknown: `nobody${n}@${SERVER}`, offline: `olga@${SERVER}` })[kind],
      caller: (kind, n) => `neutral-${kind}-${n}@${CALLER_DOMAIN}`,
      setup: (caller, calleeId) => setup(caller, calleeId, true),
    }, NEUTRAL_FLOOR_MS);
    await hs.call("unreachableUser", { userId: offline, down: false });
    return neutralReportLines(report);
  }
  // --only neutral: that section alone, for short runs.
  if (ONLY === "neutral") {
    const lines = [`matrix-appservice-webcall bench — store: ${STORE}, node ${process.version}, neutral refusal only`, ``, ...await neutralSection()];
    await stopChildren();
    await callerNode.close();
    process.stdout.write(lines.join("\n") + "\n");
    await dropStore();
    process.exit(0);
  }

  /** One warm call through the bridge: POST /webcall until the invite is in the callee's /sync.
   *  A signed setup is built and signed before the clock starts: that is the caller's node's work. */
  async function viaBridgeOnce(callee: Callee, i: number, caller = BENCH_CALLER, signed = true): Promise<number> {
    const sessionId = `bench-${i}-${randomBytes(8).toString("hex")}`;
    const token = randomBytes(24).toString("base64url");
    const { body, headers } = setup(caller, callee.address, signed, sessionId, token);
    const arrived = callee.sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === sessionId);
    const t0 = performance.now();
    const res = await post(endpoint, body, headers);
    if (res.status !== "success") throw new Error(`call from ${caller} to ${callee.address} failed: ${JSON.stringify(res)}`);
    const t1 = await arrived;
    bridgeCalls.set(sessionId, { t0: performance.timeOrigin + t0, t1: performance.timeOrigin + t1, callee: callee.address });
    const virtual = virtualOf(caller);
    const noticed = callee.sync.waitFor((e) => e.type === "m.room.message" && e.sender === virtual && /Missed/.test(e.content.body));
    await hangup(sessionId, token, signed);
    await noticed;
    return t1 - t0;
  }

  // The bridge checks signatures, and only verified callers ring by default:
  // the same caller unsigned is refused, a replayed or altered signature is 401.
  progress("checking that the bridge verifies the signed setups");
  const controls: string[] = [];
  {
    const unsigned = setup(BENCH_CALLER, aliceCallee.address, false);
    const refused = await post(endpoint, unsigned.body, unsigned.headers);
    if (refused.status !== "could_not_attend") throw new Error(`an unsigned call under ring_verified rang: ${JSON.stringify(refused)}`);
    controls.push("unsigned: could_not_attend");
    const signed = setup(BENCH_CALLER, aliceCallee.address, true);
    const sessionId = (signed.body as { sessionId: string }).sessionId;
    const arrived = aliceCallee.sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === sessionId);
    const first = await postFull(endpoint, signed.body, signed.headers);
    if (first.body.status !== "success") throw new Error(`a signed call failed: ${JSON.stringify(first.body)}`);
    const replayed = await postFull(endpoint, signed.body, signed.headers);
    const altered = setup(BENCH_CALLER, aliceCallee.address, true);
    const tampered = await postFull(endpoint, { ...altered.body, lifetime: 60_000 }, altered.headers);
    for (const [what, res] of [["replayed", replayed], ["altered", tampered]] as const) {
      if (res.status !== 401 || res.body.errcode !== "WEBCALL_BAD_SIGNATURE") throw new Error(`a ${what} signature was not refused: ${res.status} ${JSON.stringify(res.body)}`);
      controls.push(`${what}: 401`);
    }
    await arrived;
    const noticed = aliceCallee.sync.waitFor((e) => e.type === "m.room.message" && e.sender === virtualAlf && /Missed/.test(e.content.body));
    await hangup(sessionId, first.body.token);
    await noticed;
  }

  /** The floor: the same invite PUT straight to the homeserver as the virtual user. */
  async function floorOnce(i: number): Promise<number> {
    const callId = `floor-${i}-${randomBytes(8).toString("hex")}`;
    const direct = sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === callId);
    const f0 = performance.now();
    const url = `${hsUrl}/_matrix/client/v3/rooms/${encodeURIComponent(dmRoom)}/send/m.call.invite/${callId}?user_id=${encodeURIComponent(virtualAlf)}`;
    await fetch(url, { method: "PUT", headers: asHeaders, body: JSON.stringify({ call_id: callId, party_id: "floor", version: "1", lifetime: 60000, invitee: alice.userId, offer: OFFER }) }).then((r) => r.json());
    const put = performance.now();
    const f1 = await direct;
    if (i >= 30) floorPhases.push({ put: put - f0, delivery: f1 - put });
    return f1 - f0;
  }
  /** Where each measured call's time went: the bench's clocks (t0: the POST
   *  sent, t1: the invite in /sync) beside the bridge's own record of its
   *  invite PUT (its start on the machine's clock, and its length). */
  const bridgeCalls = new Map<string, { t0: number; t1: number; callee: string }>();
  const floorPhases: { put: number; delivery: number }[] = [];

  progress("measuring the warm path against the floor (signed: callee without rules, with 1,000 rules, a rota; unsigned)");
  // 1. Latency: the four bridge paths and the floor, interleaved, their order
  // rotating from one iteration to the next, so drift hits all alike.
  const viaBridge: number[] = [], withRules: number[] = [], toRota: number[] = [], unsignedCalls: number[] = [], floor: number[] = [];
  let bridgeCpu: ReturnType<typeof cpuMeter> | undefined;
  for (let i = 0; i < ITERATIONS + 30; i++) {
    if (i === 30) { await bridge.call("times"); bridgeCpu = cpuMeter(bridge.pid); } // the work timed inside the bridge starts from here too
    const steps: (() => Promise<void>)[] = [
      async () => { const t = await viaBridgeOnce(aliceCallee, i); if (i >= 30) viaBridge.push(t); },
      async () => { const t = await viaBridgeOnce(carolCallee, i); if (i >= 30) withRules.push(t); },
      async () => { const t = await viaBridgeOnce(rotaCallee, i); if (i >= 30) toRota.push(t); },
      async () => { const t = await viaBridgeOnce(daveCallee, i, UNSIGNED_CALLER, false); if (i >= 30) unsignedCalls.push(t); },
      async () => { const t = await floorOnce(i); if (i >= 30) floor.push(t); },
    ];
    for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!();
  }
  const b = summary(viaBridge), r = summary(withRules), rt = summary(toRota), u = summary(unsignedCalls), f = summary(floor);
  // The bridge's CPU per measured call, whole (setup, ring, hangup, notices): a figure the machine's load moves little.
  const bridgeCpuPerCall = bridgeCpu!.seconds() * 1000 / (4 * ITERATIONS);
  // The rule decisions and signature checks the bridge made for the measured calls, timed inside the bridge.
  const times = await bridge.call("times");
  const inBridge = times.decide[RULE_COUNT] as ReturnType<typeof summary>;
  const phases = warmPathPhases(bridgeCalls, times.inviteSends as Record<string, { start: number; ms: number }>, floorPhases, times.marks as Marks);
  const verifyIn = times.verify as ReturnType<typeof summary>, identifyIn = times.identify as ReturnType<typeof summary>;
  if (times.verified !== 3 * ITERATIONS || times.unverified !== 0) {
    throw new Error(`the bridge verified ${times.verified} of ${3 * ITERATIONS} signed setups (${times.unverified} unverified)`);
  }
  const over = (label: string, s: ReturnType<typeof summary>, note: string) =>
    `  ${label.padEnd(32)} median ${ms(s.median - f.median).padStart(8)}   ratio ${(s.median / f.median).toFixed(2)}×   ${note}`;
  if (ONLY === "warm") {
    const lines = [`matrix-appservice-webcall bench — store: ${STORE}, node ${process.version}, ${ITERATIONS} iterations, inbound warm path only`, ``,
      over("overhead, signed", b, "(target ≤ 2 ms)"), over("overhead, signed, 1,000 rules", r, "(target ≤ 2 ms)"),
      over("overhead, signed, to a rota", rt, `(target ≤ 2 ms; ${ms(rt.median - b.median)} against alice called directly)`), over("overhead, unsigned", u, ""),
      `  floor median ${ms(f.median)}`, `  bridge CPU per call, whole (setup, ring, hangup, notices): ${ms(bridgeCpuPerCall)}`, ...phaseLines(phases), `  homeserver requests: ${JSON.stringify(times.homeserverRequests)}`, `  store statements: ${JSON.stringify(times.statements, null, 1)}`];
    await stopChildren();
    await callerNode.close();
    process.stdout.write(lines.join("\n") + "\n");
    await dropStore();
    process.exit(0);
  }

  progress("measuring the outbound warm path against the homeserver's push");
  const out = await measureOutbound({ hsUrl, serverName: SERVER, remoteDomain: "remote.bench", iterations: ITERATIONS, hsCall: (cmd, payload) => hs.call(cmd, payload), node: remote, offer: OFFER });

  const neutral = await neutralSection();

  progress(`warming ${CONCURRENCY} callers`);
  // 2. Throughput: 100 concurrent callers of employer.com, each with a warm DM,
  // each setup signed. Signed ahead (the callers' node's work, not the
  // bridge's): twice each caller's share, signed inline if one runs out.
  const callers = Array.from({ length: CONCURRENCY }, (_, i) => `caller${i}@${CALLER_DOMAIN}`);
  for (const caller of callers) roomOf.set(caller, await warmCaller(caller));
  await bridge.call("times");
  const share = 2 * Math.ceil(SETUPS / CONCURRENCY);
  const ahead = new Map(callers.map((caller) => [caller, Array.from({ length: share }, () => setup(caller, aliceCallee.address, true))]));
  progress(`${SETUPS} signed setups with ${CONCURRENCY} concurrent callers`);
  const live: { sessionId: string; token: string }[] = [];
  let started = 0;
  const t0 = performance.now();
  await Promise.all(callers.map(async (caller) => {
    while (started < SETUPS) {
      started++;
      const { body, headers } = ahead.get(caller)!.pop() ?? setup(caller, aliceCallee.address, true);
      const { sessionId, token } = body as { sessionId: string; token: string };
      const arrived = sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === sessionId);
      const res = await post(endpoint, body, headers);
      if (res.status !== "success") throw new Error(`setup failed: ${JSON.stringify(res)}`);
      await arrived;
      live.push({ sessionId, token });
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  const rate = SETUPS / elapsed;
  const throughputChecks = await bridge.call("times");
  if (throughputChecks.verified !== SETUPS) throw new Error(`the bridge verified ${throughputChecks.verified} of ${SETUPS} signed setups`);
  for (let i = 0; i < live.length; i += 100) await Promise.all(live.slice(i, i + 100).map((c) => hangup(c.sessionId, c.token)));
  await new Promise((r) => setTimeout(r, 1000));

  progress(`memory with ${RINGING} ringing calls`);
  // 3. Memory per ringing call.
  const m0 = await bridge.call("memory");
  const ringing: Promise<number>[] = [];
  let made = 0;
  await Promise.all(callers.map(async (caller) => {
    while (made < RINGING) {
      made++;
      const sessionId = `mem-${randomBytes(10).toString("hex")}`;
      ringing.push(sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === sessionId));
      const { body, headers } = setup(caller, aliceCallee.address, true, sessionId);
      const res = await post(endpoint, body, headers);
      if (res.status !== "success") throw new Error(`setup failed: ${JSON.stringify(res)}`);
    }
  }));
  await Promise.all(ringing);
  const m1 = await bridge.call("memory");
  const perCall = (key: "heapUsed" | "external" | "rss") => (m1[key] - m0[key]) / RINGING / 1024;

  const usOf = (v: number) => `${(v * 1000).toFixed(1)} µs`;
  const row = (label: string, s: ReturnType<typeof summary>, note: string, unit = ms) =>
    `  ${label.padEnd(32)} median ${unit(s.median).padStart(8)}   p99 ${unit(s.p99).padStart(8)}   ${note}`;
  const lines = [
    `matrix-appservice-webcall bench — store: ${STORE}, node ${process.version}, ${ITERATIONS} iterations, offer SDP ${OFFER.sdp.length} bytes`,
    ``,
    `inbound warm path (registered virtual user, existing DM): POST /webcall → m.call.invite in the callee's /sync`,
    `  signed: ${BENCH_CALLER}'s setups carry a fresh WebCall-Signature by ${CALLER_DOMAIN} and the placed hop (signed before the clock starts);`,
    `  the bridge verified all ${times.verified} measured signed setups, and rang them under rules.defaultAction ring_verified (controls: ${controls.join(", ")})`,
    row("via bridge, signed", b, "(callee without rules: the default ring_verified rings)"),
    row("via bridge, signed, 1,000 rules", r, `(callee with ${RULE_COUNT.toLocaleString("en-US")} rules, none matching: all checked, then the default rings)`),
    row("via bridge, signed, to a rota", rt, `(${rotaCallee.address}: its rules (none: the default), its ring plan, alice on call rings; the rota room told)`),
    row("via bridge, unsigned", u, `(${UNSIGNED_CALLER}, unverified, to a callee without rules whose own default rings everyone)`),
    row("floor (direct)", f, "(the same invite PUT straight to the homeserver)"),
    over("overhead, signed", b, "(target ≤ 2 ms)"),
    over("overhead, signed, 1,000 rules", r, `(target ≤ 2 ms; ${ms(r.median - b.median)} against no rules)`),
    over("overhead, signed, to a rota", rt, `(target ≤ 2 ms; ${ms(rt.median - b.median)} against alice called directly)`),
    over("overhead, unsigned", u, `(signed − unsigned: ${ms(b.median - u.median)})`),
    row("of which decide()", inBridge, `(carol's ${inBridge.n} decisions, timed inside the bridge)`, usOf),
    row("of which verify()", verifyIn, `(the ${verifyIn.n} signed setups' WebCall-Signature, timed inside the bridge)`, usOf),
    row("of which identify()", identifyIn, "(their chain and caller, timed inside the bridge)", usOf),
    `  bridge CPU per call, whole (setup, ring, hangup, notices): ${ms(bridgeCpuPerCall)}   (the bridge process's user + system time over the measured calls)`,
    ...phaseLines(phases),
    ``,
    `outbound warm path (known node, no discovery): the Matrix user's m.call.invite → POST /webcall at the callee's node`,
    `  via bridge      median ${ms(out.via.median)}   p99 ${ms(out.via.p99)}`,
    `  floor (push)    median ${ms(out.floor.median)}   p99 ${ms(out.floor.p99)}   (the homeserver's push of the same event to a probe appservice)`,
    `  overhead        median ${ms(out.via.median - out.floor.median)}   (target ≤ 2 ms)`,
    ``,
    `call setups with ${CONCURRENCY} concurrent callers, signed: ${SETUPS} setups in ${elapsed.toFixed(2)} s = ${rate.toFixed(0)} setups/s   (target ≥ 500; all ${throughputChecks.verified} verified)`,
    ``,
    `memory per ringing call (${RINGING} calls${m1.gc ? ", after GC, bridge process only" : ""}):`,
    `  JS heap ${perCall("heapUsed").toFixed(2)} KB   external ${perCall("external").toFixed(2)} KB   RSS ${perCall("rss").toFixed(2)} KB   (target ≤ 20 KB)`,
    ``,
    ...neutral,
  ];
  await stopChildren();

  // 5. Rule evaluation, in this process, on the bridge's store (now closed by the bridge).
  progress(`rule evaluation with ${RULE_COUNT} rules`);
  setLogLevel(process.env.WEBCALL_BENCH_LOG ?? "error");
  const rules = await measureRules({ storeName: STORE === "postgres" ? "PostgreSQL" : "PGlite", store: { dataDir, ...(databaseUrl ? { url: databaseUrl } : {}) } });
  lines.push(``, ...rulesReportLines(rules));

  // 6. Signing, in this process, against the callers' node's published keys.
  progress(`signing and verifying (the callers' node received ${callerNode.pushes} session-event pushes)`);
  const signingReport = await measureSigning({ caller: callerNode, callerId: BENCH_CALLER, calleeId: aliceCallee.address, offer: OFFER, iterations: SIGNING_ITERATIONS });
  await callerNode.close();
  lines.push(``, ...signingReportLines(signingReport, CALLER_DOMAIN));
  progress("deciding who to ring for calls to rotas");
  lines.push(``, ...rotaReportLines(measureRota()));
  progress("the call link page in Chromium");
  lines.push(``, ...callPageReportLines(await measureCallPage(PAGE_CALLS)));
  process.stdout.write(lines.join("\n") + "\n");
  await dropStore();
  process.exit(0);
}

(arg("homeserver", "inprocess") === "synapse" ? runOnSynapse(arg) : main()).catch((err) => { process.stderr.write(`bench failed: ${(err as Error).stack}\n`); process.exit(1); });
