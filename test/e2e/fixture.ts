import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import yaml from "js-yaml";
import { Client } from "pg";
import { runBridge, RunningBridge, BridgeRegistration } from "../../src/bridge";
import { parseConfig } from "../../src/config/load";
import { Config } from "../../src/config/schema";
import type { RoomEvent } from "../homeserver";
import { callEventProblems } from "../schemas/matrixCallEvents";
import { freePort } from "../support/ports";
import { defaultKind, E2EHomeserver, HomeserverKind, startHomeserver } from "./homeserver";
import { TestWebCallNode } from "./webcallNode";

export { freePort };

export const SERVER_NAME = "example.org";
const PG_URL = process.env.WEBCALL_TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

export interface FixtureOptions {
  /** Real Synapse unless the test needs the in-process homeserver's faults (default: WEBCALL_TEST_HOMESERVER, else synapse). */
  homeserver?: HomeserverKind;
  /** Synapse only: homeserver.yaml keys replacing the test defaults. */
  synapseConfig?: Record<string, unknown>;
  store?: "pglite" | "postgres";
  /** The homeserver's name (default example.org). */
  serverName?: string;
  /** A fixed port for the WebCall listener, so another bridge can be told the URL before this one starts. */
  webcallPort?: number;
  /** Outbound settings; by default every domain's node is the fixture's TestWebCallNode. */
  outbound?: Partial<Config["outbound"]>;
  calls?: Partial<Config["calls"]>;
  rules?: Partial<Config["rules"]>;
  /** Domains whose node is the fixture's TestWebCallNode (default employer.com). */
  nodeDomains?: string[];
  provisioning?: Partial<Config["provisioning"]>;
  callPage?: Partial<Config["callPage"]>;
}

/**
 * A running homeserver (real Synapse by default) with the bridge registered
 * on it, the bridge started in this process. Every event a virtual user sends is checked against the project's
 * m.call.* schemas; `problems` collects any violation.
 */
export class BridgeFixture {
  bridge!: RunningBridge;
  readonly sent: RoomEvent[] = [];
  readonly problems: string[] = [];
  private pgSchema?: string;
  node!: TestWebCallNode;

  private constructor(readonly hs: E2EHomeserver, readonly config: Config, readonly registration: BridgeRegistration,
    private readonly dataDir: string, private readonly appservicePort: number) {}

  static async start(options: FixtureOptions = {}): Promise<BridgeFixture> {
    const serverName = options.serverName ?? SERVER_NAME;
    const appservicePort = await freePort();
    const registration: BridgeRegistration = {
      id: "webcall", as_token: randomBytes(16).toString("hex"), hs_token: randomBytes(16).toString("hex"), sender_localpart: "webcall",
    };
    const hs = await startHomeserver({
      kind: options.homeserver ?? defaultKind(), serverName, synapseConfig: options.synapseConfig,
      appservices: [{
        ...registration, url: `http://127.0.0.1:${appservicePort}`, rate_limited: false,
        namespaces: { users: [{ exclusive: true, regex: `@webcall_.*:${serverName.replace(/\./g, "\\.")}` }] },
      }],
    });
    const dataDir = mkdtempSync(path.join(tmpdir(), "webcall-e2e-"));
    let databaseUrl: string | undefined;
    let pgSchema: string | undefined;
    if (options.store === "postgres") {
      pgSchema = `webcall_e2e_${randomBytes(4).toString("hex")}`;
      const admin = new Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${pgSchema}`);
      await admin.end();
      databaseUrl = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${pgSchema}`)}`;
    }
    const node = await TestWebCallNode.start();
    const webcallPort = options.webcallPort ?? await freePort();
    const config = parseConfig(yaml.dump({
      homeserver: { url: hs.url, domain: serverName, openIdUrl: hs.openIdUrl },
      appservice: { bind: "127.0.0.1" },
      webcall: { bind: "127.0.0.1", port: webcallPort, publicUrl: `http://127.0.0.1:${webcallPort}/webcall`, rateLimit: { max: 10000 } },
      calls: { candidateBatchMs: 20, neutralAnswerMs: 250, ...options.calls },
      rules: { defaultAction: "ring", ...options.rules }, // test callers are unsigned: ring them unless a test says otherwise
      provisioning: { port: 0, ...options.provisioning },
      ...(options.callPage ? { callPage: options.callPage } : {}),
      outbound: { allowHttp: true, allowPrivateNetworks: true, ...options.outbound, nodes: { ...Object.fromEntries((options.nodeDomains ?? ["employer.com"]).map((d) => [d, node.url])), ...options.outbound?.nodes } },
      database: { dataDir, ...(databaseUrl ? { url: databaseUrl } : {}) },
      logging: { level: process.env.WEBCALL_TEST_LOG ?? "error" },
    }), "e2e");
    const fixture = new BridgeFixture(hs, config, registration, dataDir, appservicePort);
    fixture.node = node;
    fixture.pgSchema = pgSchema;
    hs.onEvent((ev) => fixture.check(ev));
    await fixture.startBridge();
    return fixture;
  }

  /** The bridge's clock runs this far ahead of (or behind) the real one. */
  private clockOffsetMs = 0;

  /** Sets the bridge's clock to `iso` (it then runs on from there); no argument puts it back. */
  setClock(iso?: string): void {
    this.clockOffsetMs = iso === undefined ? 0 : Date.parse(iso) - Date.now();
  }

  get webcallUrl(): string {
    return `http://127.0.0.1:${this.bridge.webcallPort}/webcall`;
  }

  /** Starts (or restarts) the bridge on the same store and appservice port. */
  async startBridge(): Promise<void> {
    this.bridge = await runBridge(this.config, this.registration, this.appservicePort, { now: () => Date.now() + this.clockOffsetMs });
  }

  async restartBridge(): Promise<void> {
    await this.bridge.stop();
    await this.startBridge();
  }

  async stop(): Promise<void> {
    await this.bridge.stop();
    await this.hs.stop();
    await this.node.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
    if (this.pgSchema) {
      const admin = new Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA ${this.pgSchema} CASCADE`);
      await admin.end();
    }
  }

  /** Events of a type the bridge's virtual users sent in a room. */
  sentIn(roomId: string, type: string): RoomEvent[] {
    return this.sent.filter((e) => e.room_id === roomId && e.type === type);
  }

  async waitForSent(predicate: (e: RoomEvent) => boolean, timeoutMs = 10_000): Promise<RoomEvent> {
    return waitFor(() => this.sent.find(predicate), timeoutMs, "an event from the bridge");
  }

  private check(ev: RoomEvent): void {
    if (!ev.sender.startsWith("@webcall_")) return;
    this.sent.push(ev);
    this.problems.push(...callEventProblems(ev.type, ev.content));
  }
}

export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
