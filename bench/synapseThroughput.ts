/**
 * Setups per second on real Synapse, beside Synapse's own ceiling for the
 * same sends. 100 concurrent callers, each with its own warm DM with alice,
 * each posting its next signed setup as soon as its previous invite reached
 * alice's /sync; and 100 concurrent senders, the same virtual users in the
 * same DMs, each PUTting the same invite straight to Synapse with the
 * as_token and waiting for it in the same /sync. The two alternate in rounds
 * (direct first in even rounds), so a database that grows as the run goes on
 * weighs on both alike. The CPU each process used is read from /proc, to say
 * who is the bottleneck.
 */
import { randomBytes } from "node:crypto";
import { cpuMeter } from "./cpu";
import { SynapseRig } from "./synapseRig";

export interface Run {
  setups: number;
  seconds: number;
  /** CPU used during the run, in cores (1 = one core busy the whole time). */
  cpu: { synapse: number; bridge: number; driver: number };
}

export interface Throughput {
  bridge: Run;
  direct: Run;
  /** Signed setups the bridge verified, of those it was sent. */
  verified: number;
  /** The bridge's requests to Synapse during its rounds, by method and path. */
  requests: Record<string, number>;
}

const rate = (r: Run) => r.setups / r.seconds;

/** Warms `count` callers of `domain`, `parallel` at a time: each gets its virtual user and DM. */
export async function warmCallers(rig: SynapseRig, domain: string, count: number, parallel = 10): Promise<{ caller: string; roomId: string }[]> {
  const callers = Array.from({ length: count }, (_, i) => `caller${i}@${domain}`);
  const warmed: { caller: string; roomId: string }[] = [];
  for (let i = 0; i < callers.length; i += parallel) {
    warmed.push(...await Promise.all(callers.slice(i, i + parallel).map(async (caller) => ({ caller, roomId: await rig.warmCaller(caller) }))));
  }
  return warmed;
}

/** `n` calls shared by `senders` concurrent senders, each making its next once `send` resolved. */
async function timed(rig: SynapseRig, n: number, senders: number, send: (sender: number) => Promise<void>): Promise<Run> {
  const synapse = cpuMeter(rig.synapse.pid!), bridge = cpuMeter(rig.bridge.pid);
  const driver0 = process.cpuUsage();
  let started = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: senders }, async (_, sender) => {
    while (started < n) {
      started++;
      await send(sender);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const driverUs = process.cpuUsage(driver0);
  return { setups: n, seconds, cpu: { synapse: synapse.share(), bridge: bridge.share(), driver: (driverUs.user + driverUs.system) / 1e6 / seconds } };
}

export async function measureThroughput(rig: SynapseRig, callers: { caller: string; roomId: string }[], setups: number, rounds: number): Promise<Throughput> {
  const perRound = Math.ceil(setups / rounds);
  const runs = { bridge: [] as Run[], direct: [] as Run[] };
  let verified = 0;
  const requests: Record<string, number> = {};
  const bridgeRound = async () => {
    // Signed ahead: the callers' node's work, not the bridge's (twice each caller's share; inline if one runs out).
    const share = 2 * Math.ceil(perRound / callers.length);
    const ahead = callers.map(({ caller }) => Array.from({ length: share }, () => rig.setup(caller)));
    await rig.bridge.call("times");
    runs.bridge.push(await timed(rig, perRound, callers.length, async (i) => {
      const { body, headers } = ahead[i]!.pop() ?? rig.setup(callers[i]!.caller);
      const arrived = rig.sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === body.sessionId);
      const res = await rig.post(body, headers);
      if (res.status !== "success") throw new Error(`setup failed: ${JSON.stringify(res)}`);
      await arrived;
    }));
    const times = await rig.bridge.call("times");
    verified += times.verified as number;
    for (const [key, n] of Object.entries<number>(times.homeserverRequests)) requests[key] = (requests[key] ?? 0) + n;
  };
  const directRound = async () => {
    runs.direct.push(await timed(rig, perRound, callers.length, async (i) => {
      const callId = `direct-${randomBytes(10).toString("hex")}`;
      const arrived = rig.sync.waitFor((e) => e.type === "m.call.invite" && e.content.call_id === callId);
      await rig.sendDirect(callers[i]!.roomId, rig.virtualOf(callers[i]!.caller), callId);
      await arrived;
    }));
  };
  for (let r = 0; r < rounds; r++) {
    for (const round of r % 2 === 0 ? [directRound, bridgeRound] : [bridgeRound, directRound]) await round();
  }
  return { bridge: sum(runs.bridge), direct: sum(runs.direct), verified, requests };
}

/** Rounds added up: setups and seconds summed, CPU weighted by each round's length. */
function sum(runs: Run[]): Run {
  const seconds = runs.reduce((s, r) => s + r.seconds, 0);
  const cpu = (k: keyof Run["cpu"]) => runs.reduce((s, r) => s + r.cpu[k] * r.seconds, 0) / seconds;
  return { setups: runs.reduce((s, r) => s + r.setups, 0), seconds, cpu: { synapse: cpu("synapse"), bridge: cpu("bridge"), driver: cpu("driver") } };
}

export function throughputReportLines(t: Throughput, concurrency: number): string[] {
  const pct = (v: number) => `${(v * 100).toFixed(0)}%`.padStart(4);
  const line = (label: string, r: Run, note: string) =>
    `  ${label.padEnd(30)} ${String(r.setups).padStart(5)} in ${r.seconds.toFixed(2).padStart(6)} s = ${rate(r).toFixed(0).padStart(4)}/s   CPU: Synapse ${pct(r.cpu.synapse)}, bridge ${pct(r.cpu.bridge)}, driver ${pct(r.cpu.driver)} of a core   ${note}`;
  return [
    `call setups with ${concurrency} concurrent callers (each waits for its invite in alice's /sync before the next)`,
    line("via bridge, signed", t.bridge, `(target ≥ 200/s; ${t.verified} of ${t.bridge.setups} verified)`),
    line("Synapse alone (direct sends)", t.direct, `(${concurrency} concurrent appservice senders, the same invites in the same DMs)`),
    `  bridge / Synapse alone       ${(rate(t.bridge) / rate(t.direct)).toFixed(2)}×`,
    `  the bridge's requests to Synapse per setup: ${perSetup(t.requests, t.bridge.setups)}`,
  ];
}

/** "PUT /send/m.call.invite 1.00, …": each kind of request, per setup. */
export function perSetup(requests: Record<string, number>, setups: number): string {
  const kinds = Object.entries(requests).sort((a, b) => b[1] - a[1]);
  return kinds.length ? kinds.map(([key, n]) => `${key} ${(n / setups).toFixed(2)}`).join(", ") : "none";
}

/** "POST /join ×1, …": each kind of request, in all. */
export function totals(requests: Record<string, number>): string {
  const kinds = Object.entries(requests).sort((a, b) => b[1] - a[1]);
  return kinds.length ? kinds.map(([key, n]) => `${key} ×${n}`).join(", ") : "none";
}
