/**
 * `npm run bench -- --homeserver synapse`: the bridge against real Synapse
 * (test/synapse, the pinned release, SQLite), each figure beside Synapse's
 * own time for the same work, so they hold as ratios on any machine:
 *   1. inbound warm path: POST /webcall → m.call.invite in alice's /sync,
 *      interleaved with the floor, the same invite sent by the appservice
 *      straight to Synapse as the virtual user;
 *   2. outbound warm path: bob's invite → POST /webcall at the callee's node,
 *      against Synapse's push of the same event to another appservice;
 *   3. setups per second with 100 concurrent callers, beside Synapse's
 *      ceiling for the same sends by 100 concurrent appservice senders.
 * Flags: --iterations (warm paths, default 200), --setups (per side, 2,000),
 * --rounds (throughput rounds alternating bridge and direct, 2), and
 * --synapse-db disk to keep Synapse's SQLite database on disk instead of
 * tmpfs: there every commit waits for fsync, so the figures are the disk's.
 */
import { randomBytes } from "node:crypto";
import { ms, summary, Stats } from "./stats";
import { realisticOffer } from "./sdp";
import { InvitePushes, measureOutboundPath } from "./outbound";
import { BENCH_CALLER } from "./rules";
import { SERVER, SynapseRig } from "./synapseRig";
import { measureThroughput, perSetup, throughputReportLines, totals, warmCallers } from "./synapseThroughput";

const CONCURRENCY = 100;
const WARMUP = 20;
const REMOTE_DOMAIN = "remote.bench";
const CALLER_DOMAIN = BENCH_CALLER.slice(BENCH_CALLER.indexOf("@") + 1);
const progress = (what: string) => process.stderr.write(`bench: ${what}\n`);

export async function runOnSynapse(arg: (name: string, fallback: string) => string): Promise<void> {
  const iterations = Number(arg("iterations", "200"));
  const setups = Number(arg("setups", "2000"));
  const rounds = Number(arg("rounds", "2"));
  const database = arg("synapse-db", "tmpfs") === "disk" ? "disk" : "tmpfs";
  const store = arg("store", "pglite") === "postgres" ? "postgres" : "pglite";
  const offer = { type: "offer" as const, sdp: realisticOffer() };
  progress("starting Synapse and the bridge");
  const rig = await SynapseRig.start({ callerDomain: CALLER_DOMAIN, remoteDomain: REMOTE_DOMAIN, offer, database, store });
  const { sync } = rig;

  const dmRoom = await rig.warmCaller(BENCH_CALLER);
  const virtualAlf = rig.virtualOf(BENCH_CALLER);
  // The bridge rings only verified callers (ring_verified): the same caller unsigned is refused.
  const unsigned = rig.setup(BENCH_CALLER, false);
  const refused = await rig.post(unsigned.body, unsigned.headers);
  if (refused.status !== "could_not_attend") throw new Error(`an unsigned call under ring_verified rang: ${JSON.stringify(refused)}`);

  // Where each measured call's time went: its start and its arrival in /sync,
  // on the clock the bridge process shares (performance.timeOrigin + now()).
  const bridgeSpans = new Map<string, { start: number; end: number }>();
  const floorPhases = { send: [] as number[], deliver: [] as number[] };

  /** One warm call: POST /webcall until the invite is in alice's /sync (signed before the clock starts). */
  async function viaBridgeOnce(i: number): Promise<number> {
    const { body, headers } = rig.setup(BENCH_CALLER, true, `bench-${i}-${randomBytes(8).toString("hex")}`);
    const arrived = sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === body.sessionId);
    const t0 = performance.now();
    const res = await rig.post(body, headers);
    if (res.status !== "success") throw new Error(`call failed: ${JSON.stringify(res)}`);
    const t1 = await arrived;
    if (i >= WARMUP) bridgeSpans.set(body.sessionId, { start: performance.timeOrigin + t0, end: performance.timeOrigin + t1 });
    const missed = sync.waitFor((e) => e.type === "m.room.message" && e.sender === virtualAlf && /Missed/.test(e.content.body));
    await rig.hangup(body.sessionId, body.token);
    await missed;
    return t1 - t0;
  }

  /** The floor: the same invite sent by the appservice as the virtual user, timed the same way. */
  async function floorOnce(i: number): Promise<number> {
    const callId = `floor-${i}-${randomBytes(8).toString("hex")}`;
    const arrived = sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === callId);
    const t0 = performance.now();
    await rig.sendDirect(dmRoom, virtualAlf, callId);
    const sent = performance.now(), t1 = await arrived;
    if (i >= WARMUP) { floorPhases.send.push(sent - t0); floorPhases.deliver.push(t1 - sent); }
    return t1 - t0;
  }

  progress(`inbound warm path against the floor, interleaved (${iterations} iterations)`);
  const viaBridge: number[] = [], floor: number[] = [];
  await rig.bridge.call("times");
  for (let i = 0; i < iterations + WARMUP; i++) {
    if (i === WARMUP) await rig.bridge.call("times");
    const steps = [
      async () => { const t = await viaBridgeOnce(i); if (i >= WARMUP) viaBridge.push(t); },
      async () => { const t = await floorOnce(i); if (i >= WARMUP) floor.push(t); },
    ];
    for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!();
  }
  const times = await rig.bridge.call("times");
  if (times.verified !== iterations || times.unverified !== 0) throw new Error(`the bridge verified ${times.verified} of ${iterations} signed setups`);
  // The bridge's calls split at its PUT of the invite: before it (the bridge's
  // own work), the PUT (Synapse's send), after it (Synapse's delivery to /sync).
  const bridgePhases = { before: [] as number[], send: [] as number[], deliver: [] as number[] };
  for (const [callId, span] of bridgeSpans) {
    const put = (times.inviteSends as Record<string, { start: number; ms: number }>)[callId];
    if (!put) throw new Error(`the bridge's invite for ${callId} was not seen`);
    bridgePhases.before.push(put.start - span.start);
    bridgePhases.send.push(put.ms);
    bridgePhases.deliver.push(span.end - put.start - put.ms);
  }
  const inbound = { via: summary(viaBridge), floor: summary(floor), verify: times.verify as Stats, requests: times.homeserverRequests as Record<string, number> };

  progress(`outbound warm path against Synapse's push (${iterations} iterations)`);
  const pushes: InvitePushes = new Map();
  rig.synapse.observer.on("event", (e) => { if (e.type === "m.call.invite") pushes.get(e.content.call_id as string)?.(performance.now()); });
  await rig.bridge.call("times");
  const outbound = await measureOutboundPath({
    hsUrl: rig.synapse.url, serverName: SERVER, remoteDomain: REMOTE_DOMAIN, iterations, warmup: WARMUP,
    node: rig.remote, offer, bob: await rig.synapse.register("bob"), pushes,
  });
  // Over the whole section: bob's DM with the virtual user, then each call and its hangup.
  const outboundRequests = (await rig.bridge.call("times")).homeserverRequests as Record<string, number>;

  progress(`warming ${CONCURRENCY} callers`);
  const callers = await warmCallers(rig, CALLER_DOMAIN, CONCURRENCY);
  progress(`${setups} setups through the bridge and ${setups} direct sends, ${CONCURRENCY} at a time, in ${rounds} alternating rounds`);
  const throughput = await measureThroughput(rig, callers, setups, rounds);
  if (throughput.verified !== throughput.bridge.setups) throw new Error(`the bridge verified ${throughput.verified} of ${throughput.bridge.setups} signed setups`);
  await rig.stop();

  const row = (label: string, s: Stats, note = "") => `  ${label.padEnd(24)} median ${ms(s.median).padStart(9)}   p99 ${ms(s.p99).padStart(9)}   ${note}`;
  const lines = [
    `matrix-appservice-webcall bench — homeserver: Synapse ${rig.version} (SQLite on ${database === "tmpfs" ? "tmpfs" : "disk"}), store: ${rig.pgSchema ? "postgresql" : "pglite"}, node ${process.version}, ${iterations} iterations, offer SDP ${offer.sdp.length} bytes`,
    ``,
    `inbound warm path (registered virtual user, existing DM): POST /webcall → m.call.invite in alice's /sync, interleaved with the floor`,
    `  signed setups from ${BENCH_CALLER} (placed hop, fresh WebCall-Signature, signed before the clock starts); all ${times.verified} verified, rung under ring_verified (unsigned: could_not_attend)`,
    row("via bridge, signed", inbound.via),
    row("floor (direct send)", inbound.floor, "(the same invite PUT by the appservice as the virtual user, ?user_id=)"),
    `  ratio                    median ${(inbound.via.median / inbound.floor.median).toFixed(2)}×   overhead ${ms(inbound.via.median - inbound.floor.median)}   (target ≤ 1.10×)`,
    row("of which verify()", inbound.verify, "(timed inside the bridge)"),
    `  where the time goes (medians): bridge ${ms(summary(bridgePhases.before).median)} before its PUT, PUT ${ms(summary(bridgePhases.send).median)}, /sync delivery ${ms(summary(bridgePhases.deliver).median)};` +
      ` floor PUT ${ms(summary(floorPhases.send).median)}, /sync delivery ${ms(summary(floorPhases.deliver).median)}`,
    `  the bridge's requests to Synapse per call, setup and hangup: ${perSetup(inbound.requests, iterations)}`,
    ``,
    `outbound warm path (known node): bob's m.call.invite → POST /webcall at the callee's node`,
    row("via bridge", outbound.via),
    row("floor (Synapse's push)", outbound.floor, "(Synapse's push of the same event to its observer appservice)"),
    `  overhead                 median ${ms(outbound.via.median - outbound.floor.median).padStart(9)}   (target ≤ 2 ms)`,
    `  the bridge's requests to Synapse over all ${iterations + WARMUP} calls and their hangups, with joining bob's DM: ${totals(outboundRequests)}`,
    ``,
    ...throughputReportLines(throughput, CONCURRENCY),
    ``,
    `not run against Synapse: the unsigned and 1,000-rule warm-path contrasts, memory per ringing call, rule evaluation and signing`,
    `  measure the bridge alone, whatever the homeserver; neutral refusal's offline callee needs the in-process homeserver's fault injection.`,
    `  See \`npm run bench\` (the in-process homeserver).`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
  process.exit(0);
}
