/**
 * The bridge's benchmark: one command, one run, every figure.
 *   npm run bench [-- --store postgres] [-- --iterations 300]
 *
 * 1. Inbound warm path: POST /webcall → m.call.invite in the callee's /sync,
 *    against the same homeserver send done directly (the floor).
 * 2. Call setups per second with 100 concurrent callers.
 * 3. Memory per ringing call.
 * 4. Outbound warm path: a Matrix user's invite → POST /webcall at the
 *    callee's node, against the homeserver's own push time (the floor).
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
  const asHeaders = { authorization: `Bearer ${registration.as_token}`, "content-type": "application/json" };

  async function hangup(sessionId: string, token: string): Promise<void> {
    await post(`${endpoint}/sessions/${sessionId}/events`, { events: [{ id: randomBytes(6).toString("hex"), type: "hangup", reason: "user_hangup" }] }, { authorization: `Bearer ${token}` });
  }

  /** First contact from `caller`: alice joins the DM the bridge invites her to. */
  const aliceHeaders = { authorization: `Bearer ${alice.accessToken}` };
  const joined = new Set<string>();
  async function newInvite(): Promise<string> {
    for (let i = 0; i < 500; i++) {
      const body = await (await fetch(`${hsUrl}/_matrix/client/v3/sync?timeout=0&filter=${encodeURIComponent('{"room":{"timeline":{"limit":0}}}')}`, { headers: aliceHeaders })).json() as any;
      const roomId = Object.keys(body.rooms?.invite ?? {}).find((r) => !joined.has(r));
      if (roomId) { joined.add(roomId); return roomId; }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error("no invite for alice");
  }

  async function warmCaller(caller: string): Promise<string> {
    const res = await post(endpoint, { callerId: caller, calleeId: "alice@example.org", offer: OFFER });
    const roomId = await newInvite();
    const rang = sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === res.sessionId);
    await fetch(`${hsUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/join`, { method: "POST", headers: { authorization: `Bearer ${alice.accessToken}`, "content-type": "application/json" }, body: "{}" });
    await rang;
    await hangup(res.sessionId, res.token);
    return roomId;
  }

  // Warm-up: alice gets her DM with alf (registration, room and join cached).
  const roomOf = new Map<string, string>();
  roomOf.set("alf@employer.com", await warmCaller("alf@employer.com"));
  const dmRoom = roomOf.get("alf@employer.com")!;
  const virtualAlf = "@webcall_alf=40employer.com:example.org";

  progress("measuring the warm path against the floor");
  // 1. Latency: bridge path and floor, interleaved.
  const viaBridge: number[] = [], floor: number[] = [];
  for (let i = 0; i < ITERATIONS + 30; i++) {
    const sessionId = `bench-${i}-${randomBytes(8).toString("hex")}`;
    const token = randomBytes(24).toString("base64url");
    const arrived = sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === sessionId);
    const t0 = performance.now();
    await post(endpoint, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER, sessionId, token });
    const t1 = await arrived;
    const noticed = sync.waitFor((e) => e.type === "m.room.message" && e.sender === virtualAlf && /Missed/.test(e.content.body));
    await hangup(sessionId, token);
    await noticed;

    const callId = `floor-${i}-${randomBytes(8).toString("hex")}`;
    const direct = sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === callId);
    const f0 = performance.now();
    const url = `${hsUrl}/_matrix/client/v3/rooms/${encodeURIComponent(dmRoom)}/send/m.call.invite/${callId}?user_id=${encodeURIComponent(virtualAlf)}`;
    await fetch(url, { method: "PUT", headers: asHeaders, body: JSON.stringify({ call_id: callId, party_id: "floor", version: "1", lifetime: 60000, invitee: alice.userId, offer: OFFER }) }).then((r) => r.json());
    const f1 = await direct;
    if (i >= 30) { viaBridge.push(t1 - t0); floor.push(f1 - f0); }
  }
  const b = summary(viaBridge), f = summary(floor);

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
    `  via bridge      median ${ms(b.median)}   p99 ${ms(b.p99)}`,
    `  floor (direct)  median ${ms(f.median)}   p99 ${ms(f.p99)}   (the same invite PUT straight to the homeserver)`,
    `  overhead        median ${ms(b.median - f.median)}   ratio ${(b.median / f.median).toFixed(2)}×   (target ≤ 2 ms)`,
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
  process.stdout.write(lines.join("\n") + "\n");

  await sync.stop();
  await bridge.call("stop").catch(() => undefined);
  await hs.call("stop").catch(() => undefined);
  remote.close();
  rmSync(dataDir, { recursive: true, force: true });
  if (STORE === "postgres") {
    const admin = new Client({ connectionString: PG_URL });
    await admin.connect(); await admin.query(`DROP SCHEMA ${pgSchema} CASCADE`); await admin.end();
  }
  process.exit(0);
}

main().catch((err) => { process.stderr.write(`bench failed: ${(err as Error).stack}\n`); process.exit(1); });
