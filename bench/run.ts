/**
 * The bridge's benchmark: one command, one run, every figure.
 *   npm run bench [-- --store postgres] [-- --iterations 300]
 *
 * 1. Inbound warm path: POST /webcall → m.call.invite in the callee's /sync,
 *    against the same homeserver send done directly (the floor), for a
 *    callee without rules and for one with 1,000 rules none of which matches.
 * 2. Call setups per second with 100 concurrent callers.
 * 3. Memory per ringing call.
 * 4. Outbound warm path: a Matrix user's invite → POST /webcall at the
 *    callee's node, against the homeserver's own push time (the floor).
 * 5. Rule evaluation with 1,000 rules for one user (bench/rules.ts), once the
 *    bridge has stopped, on the same store.
 * The test homeserver and the bridge each run in a child process; this
 * process only drives them, as a caller and a callee would from outside.
 */
import { fork, ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import yaml from "js-yaml";
import { Client } from "pg";
import { SyncWatcher } from "./syncWatcher";
import { ms, summary } from "./stats";
import { realisticOffer } from "./sdp";
import { measureOutbound, startRemoteNode } from "./outbound";
import { BENCH_CALLER, RULE_COUNT, manyRules, measureRules, rulesReportLines, userRules } from "./rules";
import { setLogLevel } from "../src/log";
import { MatrixUserId } from "../src/ids/matrix";

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1]! : fallback; };
const STORE = arg("store", "pglite");
const ITERATIONS = Number(arg("iterations", "300"));
const CONCURRENCY = 100;
const SETUPS = Number(arg("setups", "3000"));
const RINGING = Number(arg("ringing", "1000"));
const SERVER = "example.org";
const PG_URL = process.env.WEBCALL_TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test";
const OFFER = { type: "offer" as const, sdp: realisticOffer() };

/** A child process driven over IPC: the homeserver, or the bridge. */
class Child {
  private nextId = 0;
  private readonly pending = new Map<number, (m: any) => void>();
  private constructor(private readonly child: ChildProcess, readonly ready: any) {
    child.on("message", (m: any) => { if (m.id !== undefined) { this.pending.get(m.id)?.(m); this.pending.delete(m.id); } });
  }
  static start(script: string, execArgv: string[] = []): Promise<Child> {
    const child = fork(join(__dirname, script), [], {
      execArgv: [...execArgv, "-r", join(__dirname, "..", "scripts", "register-ts.cjs")],
      env: { ...process.env, BENCH_SERVER_NAME: SERVER },
    });
    return new Promise((resolve) => child.once("message", (m: any) => resolve(new Child(child, m))));
  }
  call(cmd: string, payload: object = {}): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (m) => m.error ? reject(new Error(m.error)) : resolve(m.result));
      this.child.send({ id, cmd, ...payload });
    });
  }
}

const progress = (what: string) => process.stderr.write(`bench: ${what}\n`);

async function post(url: string, body: object, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return res.json();
}

async function main(): Promise<void> {
  const remote = await startRemoteNode();
  const hs = await Child.start("homeserverProcess.ts");
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
    calls: { defaultLifetimeMs: 120000 },
    // Bench callers are unsigned (never verified): the default must ring them.
    rules: { defaultAction: "ring" },
    outbound: { allowHttp: true, allowPrivateNetworks: true, nodes: { "remote.bench": remote.url } },
    database: { dataDir, ...(databaseUrl ? { url: databaseUrl } : {}) },
    logging: { level: process.env.WEBCALL_BENCH_LOG ?? "error" },
  });
  const registration = { id: "webcall", as_token: randomBytes(16).toString("hex"), hs_token: randomBytes(16).toString("hex"), sender_localpart: "webcall" };
  const bridge = await Child.start("bridgeProcess.ts", ["--expose-gc"]);
  const ports = await bridge.call("start", { config: configYaml, registration });
  await hs.call("registerAppservice", { reg: { ...registration, url: `http://127.0.0.1:${ports.appservicePort}`, rate_limited: false, namespaces: { users: [{ exclusive: true, regex: "@webcall_.*:example\\.org" }] } } });
  const endpoint = `http://127.0.0.1:${ports.webcallPort}/webcall`;
  const alice = await hs.call("createUser", { localpart: "alice" });
  const sync = new SyncWatcher(hsUrl, alice.accessToken);
  await sync.start();
  // carol has 1,000 rules, none matching the caller: each of her calls checks
  // them all, then the default rings. ("bob" is the outbound bench's user.)
  // Saved before she is ever called, so nothing stale is cached.
  const carol = await hs.call("createUser", { localpart: "carol" });
  const carolSync = new SyncWatcher(hsUrl, carol.accessToken);
  await carolSync.start();
  const carolRules = manyRules(RULE_COUNT, BENCH_CALLER, Date.now());
  await bridge.call("saveRules", { userRules: userRules(carol.userId as MatrixUserId, carolRules) });
  const asHeaders = { authorization: `Bearer ${registration.as_token}`, "content-type": "application/json" };

  async function hangup(sessionId: string, token: string): Promise<void> {
    await post(`${endpoint}/sessions/${sessionId}/events`, { events: [{ id: randomBytes(6).toString("hex"), type: "hangup", reason: "user_hangup" }] }, { authorization: `Bearer ${token}` });
  }

  /** A Matrix user calls are made to, with their /sync. */
  interface Callee { user: { userId: string; accessToken: string }; address: string; sync: SyncWatcher; joined: Set<string> }
  const aliceCallee: Callee = { user: alice, address: "alice@example.org", sync, joined: new Set() };
  const carolCallee: Callee = { user: carol, address: "carol@example.org", sync: carolSync, joined: new Set() };

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

  async function warmCaller(caller: string, callee: Callee = aliceCallee): Promise<string> {
    const res = await post(endpoint, { callerId: caller, calleeId: callee.address, offer: OFFER });
    if (res.status !== "success") throw new Error(`warm-up call to ${callee.address} failed: ${JSON.stringify(res)}`);
    const roomId = await newInvite(callee);
    const rang = callee.sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === res.sessionId);
    await fetch(`${hsUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/join`, { method: "POST", headers: { authorization: `Bearer ${callee.user.accessToken}`, "content-type": "application/json" }, body: "{}" });
    await rang;
    await hangup(res.sessionId, res.token);
    return roomId;
  }

  // Warm-up: alice and carol each get their DM with alf (registration, room and join cached).
  const roomOf = new Map<string, string>();
  roomOf.set(BENCH_CALLER, await warmCaller(BENCH_CALLER));
  await warmCaller(BENCH_CALLER, carolCallee);
  const dmRoom = roomOf.get(BENCH_CALLER)!;
  const virtualAlf = "@webcall_alf=40employer.com:example.org";

  /** One warm call through the bridge: POST /webcall until the invite is in the callee's /sync. */
  async function viaBridgeOnce(callee: Callee, i: number): Promise<number> {
    const sessionId = `bench-${i}-${randomBytes(8).toString("hex")}`;
    const token = randomBytes(24).toString("base64url");
    const arrived = callee.sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === sessionId);
    const t0 = performance.now();
    const res = await post(endpoint, { callerId: BENCH_CALLER, calleeId: callee.address, offer: OFFER, sessionId, token });
    if (res.status !== "success") throw new Error(`call to ${callee.address} failed: ${JSON.stringify(res)}`);
    const t1 = await arrived;
    const noticed = callee.sync.waitFor((e) => e.type === "m.room.message" && e.sender === virtualAlf && /Missed/.test(e.content.body));
    await hangup(sessionId, token);
    await noticed;
    return t1 - t0;
  }

  /** The floor: the same invite PUT straight to the homeserver as the virtual user. */
  async function floorOnce(i: number): Promise<number> {
    const callId = `floor-${i}-${randomBytes(8).toString("hex")}`;
    const direct = sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === callId);
    const f0 = performance.now();
    const url = `${hsUrl}/_matrix/client/v3/rooms/${encodeURIComponent(dmRoom)}/send/m.call.invite/${callId}?user_id=${encodeURIComponent(virtualAlf)}`;
    await fetch(url, { method: "PUT", headers: asHeaders, body: JSON.stringify({ call_id: callId, party_id: "floor", version: "1", lifetime: 60000, invitee: alice.userId, offer: OFFER }) }).then((r) => r.json());
    return (await direct) - f0;
  }

  progress("measuring the warm path against the floor (callee without rules, callee with 1,000 rules)");
  // 1. Latency: both bridge paths and the floor, interleaved, their order
  // rotating from one iteration to the next, so drift hits all alike.
  const viaBridge: number[] = [], withRules: number[] = [], floor: number[] = [];
  for (let i = 0; i < ITERATIONS + 30; i++) {
    if (i === 30) await bridge.call("decideTimes"); // the decisions timed inside the bridge start from here too
    const steps: (() => Promise<void>)[] = [
      async () => { const t = await viaBridgeOnce(aliceCallee, i); if (i >= 30) viaBridge.push(t); },
      async () => { const t = await viaBridgeOnce(carolCallee, i); if (i >= 30) withRules.push(t); },
      async () => { const t = await floorOnce(i); if (i >= 30) floor.push(t); },
    ];
    for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!();
  }
  const b = summary(viaBridge), r = summary(withRules), f = summary(floor);
  // The rule decisions the bridge made for carol's measured calls, timed inside the bridge.
  const inBridge = (await bridge.call("decideTimes"))[RULE_COUNT] as ReturnType<typeof summary>;

  progress("measuring the outbound warm path against the homeserver's push");
  const out = await measureOutbound({ hsUrl, serverName: SERVER, remoteDomain: "remote.bench", iterations: ITERATIONS, hsCall: (cmd, payload) => hs.call(cmd, payload), node: remote, offer: OFFER });

  progress(`warming ${CONCURRENCY} callers`);
  // 2. Throughput: 100 concurrent callers, each with a warm DM.
  const callers = Array.from({ length: CONCURRENCY }, (_, i) => `caller${i}@bench.org`);
  for (const caller of callers) roomOf.set(caller, await warmCaller(caller));
  progress(`${SETUPS} setups with ${CONCURRENCY} concurrent callers`);
  const live: { sessionId: string; token: string }[] = [];
  let started = 0;
  const t0 = performance.now();
  await Promise.all(callers.map(async (caller) => {
    while (started < SETUPS) {
      started++;
      const sessionId = `tp-${randomBytes(10).toString("hex")}`;
      const token = randomBytes(24).toString("base64url");
      const arrived = sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === sessionId);
      const res = await post(endpoint, { callerId: caller, calleeId: "alice@example.org", offer: OFFER, sessionId, token });
      if (res.status !== "success") throw new Error(`setup failed: ${JSON.stringify(res)}`);
      await arrived;
      live.push({ sessionId, token });
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  const rate = SETUPS / elapsed;
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
      await post(endpoint, { callerId: caller, calleeId: "alice@example.org", offer: OFFER, sessionId, token: randomBytes(24).toString("base64url") });
    }
  }));
  await Promise.all(ringing);
  const m1 = await bridge.call("memory");
  const perCall = (key: "heapUsed" | "external" | "rss") => (m1[key] - m0[key]) / RINGING / 1024;

  const lines = [
    `matrix-appservice-webcall bench — store: ${STORE}, node ${process.version}, ${ITERATIONS} iterations, offer SDP ${OFFER.sdp.length} bytes`,
    ``,
    `inbound warm path (registered virtual user, existing DM): POST /webcall → m.call.invite in the callee's /sync`,
    `  via bridge              median ${ms(b.median)}   p99 ${ms(b.p99)}   (callee without rules)`,
    `  via bridge, 1,000 rules median ${ms(r.median)}   p99 ${ms(r.p99)}   (callee with ${RULE_COUNT.toLocaleString("en-US")} rules, none matching: all checked, then the default rings)`,
    `  floor (direct)          median ${ms(f.median)}   p99 ${ms(f.p99)}   (the same invite PUT straight to the homeserver)`,
    `  overhead                median ${ms(b.median - f.median)}   ratio ${(b.median / f.median).toFixed(2)}×   (target ≤ 2 ms)`,
    `  overhead, 1,000 rules   median ${ms(r.median - f.median)}   ratio ${(r.median / f.median).toFixed(2)}×   (target ≤ 2 ms; ${ms(r.median - b.median)} against no rules)`,
    `  of which decide()       median ${(inBridge.median * 1000).toFixed(1)} µs   p99 ${(inBridge.p99 * 1000).toFixed(1)} µs   (carol's ${inBridge.n} decisions, timed inside the bridge)`,
    ``,
    `outbound warm path (known node, no discovery): the Matrix user's m.call.invite → POST /webcall at the callee's node`,
    `  via bridge      median ${ms(out.via.median)}   p99 ${ms(out.via.p99)}`,
    `  floor (push)    median ${ms(out.floor.median)}   p99 ${ms(out.floor.p99)}   (the homeserver's push of the same event to a probe appservice)`,
    `  overhead        median ${ms(out.via.median - out.floor.median)}   (target ≤ 2 ms)`,
    ``,
    `call setups with ${CONCURRENCY} concurrent callers: ${SETUPS} setups in ${elapsed.toFixed(2)} s = ${rate.toFixed(0)} setups/s   (target ≥ 500)`,
    ``,
    `memory per ringing call (${RINGING} calls${m1.gc ? ", after GC, bridge process only" : ""}):`,
    `  JS heap ${perCall("heapUsed").toFixed(2)} KB   external ${perCall("external").toFixed(2)} KB   RSS ${perCall("rss").toFixed(2)} KB   (target ≤ 20 KB)`,
  ];
  await sync.stop();
  await carolSync.stop();
  await bridge.call("stop").catch(() => undefined);
  await hs.call("stop").catch(() => undefined);
  remote.close();

  // 5. Rule evaluation, in this process, on the bridge's store (now closed by the bridge).
  progress(`rule evaluation with ${RULE_COUNT} rules`);
  setLogLevel(process.env.WEBCALL_BENCH_LOG ?? "error");
  const rules = await measureRules({ storeName: STORE === "postgres" ? "PostgreSQL" : "PGlite", store: { dataDir, ...(databaseUrl ? { url: databaseUrl } : {}) } });
  lines.push(``, ...rulesReportLines(rules));
  process.stdout.write(lines.join("\n") + "\n");

  rmSync(dataDir, { recursive: true, force: true });
  if (STORE === "postgres") {
    const admin = new Client({ connectionString: PG_URL });
    await admin.connect(); await admin.query(`DROP SCHEMA ${pgSchema} CASCADE`); await admin.end();
  }
  process.exit(0);
}

main().catch((err) => { process.stderr.write(`bench failed: ${(err as Error).stack}\n`); process.exit(1); });
