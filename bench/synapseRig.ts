/**
 * The bench's pieces on real Synapse (test/synapse/server.ts): Synapse with
 * the bridge's registration (its appservice port chosen before Synapse
 * starts, since Synapse reads registrations at start-up), the bridge in its
 * own process (bench/bridgeProcess.ts), the callers' node that signs their
 * setups (bench/signing.ts), the callee's node for outbound calls, and alice,
 * the callee, with her /sync. Synapse's observer appservice (interested in
 * every room) shows each event as Synapse pushes it: alice joins each DM the
 * moment its invite is pushed, and the outbound floor is timed from it.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { Client } from "pg";
import type { RoomEvent } from "../test/homeserver/types";
import { freePort } from "../test/support/ports";
import { SynapseServer } from "../test/synapse/server";
import { Child } from "./child";
import { startRemoteNode } from "./outbound";
import { CallerNode, placedSetup, signedHeaders, startCallerNode } from "./signing";
import { SyncWatcher } from "./syncWatcher";

export const SERVER = "example.org";

type Offer = { type: "offer"; sdp: string };

export class SynapseRig {
  /** alice's join of each DM, as Synapse pushes it. */
  private readonly joins = new Map<string, Promise<unknown>>();
  private readonly observers: { match: (e: RoomEvent) => boolean; resolve: (at: { event: RoomEvent; at: number }) => void }[] = [];

  private constructor(
    readonly synapse: SynapseServer, readonly bridge: Child, readonly endpoint: string, readonly asToken: string,
    readonly callerNode: CallerNode, readonly remote: Awaited<ReturnType<typeof startRemoteNode>>,
    readonly alice: { userId: string; accessToken: string }, readonly sync: SyncWatcher,
    readonly offer: Offer, private readonly dataDirs: string[], readonly version: string, readonly pgSchema: string | undefined,
  ) {
    synapse.observer.on("event", (event) => {
      const at = performance.now();
      for (let i = this.observers.length - 1; i >= 0; i--) {
        if (this.observers[i]!.match(event)) { this.observers[i]!.resolve({ event, at }); this.observers.splice(i, 1); }
      }
    });
  }

  /** `database: "tmpfs"` keeps Synapse's SQLite file in /dev/shm, so that a
   *  commit does not wait for the disk's fsync (what PostgreSQL's group
   *  commit and a production disk make cheap); "disk" leaves it in Synapse's folder. */
  static async start(o: { callerDomain: string; remoteDomain: string; offer: Offer; database: "tmpfs" | "disk"; store: "pglite" | "postgres" }): Promise<SynapseRig> {
    const remote = await startRemoteNode();
    const dbDir = o.database === "tmpfs" ? mkdtempSync("/dev/shm/webcall-bench-synapse-") : undefined;
    const callerNode = await startCallerNode(o.callerDomain);
    const appservicePort = await freePort();
    const registration = { id: "webcall", as_token: randomBytes(16).toString("hex"), hs_token: randomBytes(16).toString("hex"), sender_localpart: "webcall" };
    const synapse = await SynapseServer.start({ serverName: SERVER, config: dbDir ? { database: { name: "sqlite3", args: { database: join(dbDir, "homeserver.db") } } } : undefined, appservices: [{
      ...registration, url: `http://127.0.0.1:${appservicePort}`, rate_limited: false,
      namespaces: { users: [{ exclusive: true, regex: `@webcall_.*:${SERVER.replace(/\./g, "\\.")}` }] },
    }] });
    const dataDir = mkdtempSync(join(tmpdir(), "webcall-bench-"));
    const pgSchema = o.store === "postgres" ? await createSchema() : undefined;
    const config = yaml.dump({
      homeserver: { url: synapse.url, domain: SERVER },
      webcall: { bind: "127.0.0.1", port: 0, publicUrl: "http://127.0.0.1/webcall", rateLimit: { max: 1_000_000 } },
      calls: { defaultLifetimeMs: 120000 },
      rules: { defaultAction: "ring_verified" },
      outbound: { allowHttp: true, allowPrivateNetworks: true, nodes: { [o.remoteDomain]: remote.url, [o.callerDomain]: callerNode.url } },
      database: { dataDir, ...(pgSchema ? { url: `${PG_URL}?options=${encodeURIComponent(`-c search_path=${pgSchema}`)}` } : {}) },
      logging: { level: process.env.WEBCALL_BENCH_LOG ?? "error" },
    });
    const bridge = await Child.start("bridgeProcess.ts", SERVER);
    const ports = await bridge.call("start", { config, registration, appservicePort });
    const alice = await synapse.register("alice");
    const sync = new SyncWatcher(synapse.url, alice.accessToken);
    await sync.start();
    const { server_version: version } = await synapse.request("GET", "/_synapse/admin/v1/server_version") as { server_version: string };
    const rig = new SynapseRig(synapse, bridge, `http://127.0.0.1:${ports.webcallPort}/webcall`, registration.as_token,
      callerNode, remote, alice, sync, o.offer, dbDir ? [dataDir, dbDir] : [dataDir], version, pgSchema);
    rig.joinEveryInvite();
    return rig;
  }

  /** alice accepts each DM the bridge invites her to, as soon as Synapse pushes the invite. */
  private joinEveryInvite(): void {
    this.synapse.observer.on("event", (e) => {
      if (e.type !== "m.room.member" || e.state_key !== this.alice.userId || e.content.membership !== "invite") return;
      this.joins.set(e.room_id, this.observed((j) => j.room_id === e.room_id && j.type === "m.room.member" && j.state_key === this.alice.userId && j.content.membership === "join"));
      void fetch(`${this.synapse.url}/_matrix/client/v3/rooms/${encodeURIComponent(e.room_id)}/join`, {
        method: "POST", headers: { authorization: `Bearer ${this.alice.accessToken}`, "content-type": "application/json" }, body: "{}",
      });
    });
  }

  /** The next event Synapse pushes that matches, and when it arrived. */
  observed(match: (e: RoomEvent) => boolean): Promise<{ event: RoomEvent; at: number }> {
    return new Promise((resolve) => this.observers.push({ match, resolve }));
  }

  virtualOf(caller: string): string {
    return `@webcall_${caller.replace("@", "=40")}:${SERVER}`;
  }

  /** A setup from `caller` to alice; `signed`: as the caller's node sends it (placed hop, fresh signature). */
  setup(caller: string, signed = true, sessionId = `s-${randomBytes(10).toString("hex")}`): { body: { sessionId: string; token: string }; headers: Record<string, string> } {
    const fields = { callerId: caller, calleeId: `alice@${SERVER}`, offer: this.offer, sessionId, token: randomBytes(24).toString("base64url") };
    if (!signed) return { body: fields, headers: {} };
    const body = placedSetup(this.callerNode, fields);
    return { body: body as typeof fields, headers: signedHeaders(this.callerNode.keys, this.endpoint, SERVER, body) };
  }

  async post(body: object, headers: Record<string, string>): Promise<any> {
    const res = await fetch(this.endpoint, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    return res.json();
  }

  /** The caller hangs up; its node signs the push. */
  async hangup(sessionId: string, token: string): Promise<void> {
    const url = `${this.endpoint}/sessions/${sessionId}/events`;
    const body = { events: [{ id: randomBytes(6).toString("hex"), type: "hangup", reason: "user_hangup" }] };
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...signedHeaders(this.callerNode.keys, url, SERVER, body) }, body: JSON.stringify(body) });
    if (res.status !== 200) throw new Error(`hangup failed: ${res.status} ${await res.text()}`);
  }

  /** First contact from `caller`: the bridge registers its virtual user, opens
   *  the DM and rings; alice joins; the caller hangs up. Returns the DM. */
  async warmCaller(caller: string): Promise<string> {
    const { body, headers } = this.setup(caller);
    const rang = this.observed((e) => e.type === "m.call.invite" && e.content.call_id === body.sessionId);
    const res = await this.post(body, headers);
    if (res.status !== "success") throw new Error(`warm-up call from ${caller} failed: ${JSON.stringify(res)}`);
    const roomId = (await rang).event.room_id;
    // Synapse pushes events in order, so the DM's invite to alice was seen before the ring.
    const joined = this.joins.get(roomId);
    if (!joined) throw new Error(`alice was not invited to ${roomId} before the ring`);
    await joined;
    await this.hangup(res.sessionId, res.token);
    return roomId;
  }

  /** The floor's send: `virtual`'s invite PUT straight to Synapse with the as_token, as the bridge sends it. */
  async sendDirect(roomId: string, virtual: string, callId: string): Promise<void> {
    const url = `${this.synapse.url}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.call.invite/${callId}?user_id=${encodeURIComponent(virtual)}`;
    const res = await fetch(url, { method: "PUT", headers: { authorization: `Bearer ${this.asToken}`, "content-type": "application/json" },
      body: JSON.stringify({ call_id: callId, party_id: "floor", version: "1", lifetime: 60000, invitee: this.alice.userId, offer: this.offer }) });
    if (!res.ok) throw new Error(`direct send failed: ${res.status} ${await res.text()}`);
  }

  async stop(): Promise<void> {
    await this.sync.stop();
    await this.bridge.call("stop").catch(() => undefined);
    await this.synapse.stop();
    this.remote.close();
    await this.callerNode.close();
    for (const dir of this.dataDirs) rmSync(dir, { recursive: true, force: true });
    if (this.pgSchema) await pg(`DROP SCHEMA ${this.pgSchema} CASCADE`);
  }
}

const PG_URL = process.env.WEBCALL_TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

async function pg(sql: string): Promise<void> {
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** A schema of its own for the bridge's store on PostgreSQL (--store postgres). */
async function createSchema(): Promise<string> {
  const schema = `webcall_bench_${randomBytes(4).toString("hex")}`;
  await pg(`CREATE SCHEMA ${schema}`);
  return schema;
}
