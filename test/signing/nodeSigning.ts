import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import http from "node:http";
import { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Config } from "../../src/config/schema";
import { Authority } from "../../src/signing/Authority";
import { CallerCheck } from "../../src/signing/CallerCheck";
import { KeyRing } from "../../src/signing/KeyRing";
import { NodeKeys, NodeKeysOptions } from "../../src/signing/NodeKeys";
import { RequestVerifier } from "../../src/signing/RequestVerifier";
import { openStore, Store } from "../../src/store";
import { NodeDiscovery } from "../../src/net/discovery";
import { OutboundHttp } from "../../src/net/outboundHttp";
import { createWebCallServer, WebCallServer } from "../../src/webcall/server";
import { FakeNode, outboundConfig, webcallConfig } from "../webcall/fakeNode";

export const SIGNING_DEFAULTS: Config["signing"] = {
  rotateAfterDays: 0, oldKeyRetentionDays: 7, publishForMs: 86_400_000,
  peerKeyCacheMs: 3_600_000, peerKeyCacheSize: 100, replayCacheSize: 1000,
};

export interface NodeSigningOptions {
  now?: () => number;
  /** Overrides of SIGNING_DEFAULTS for this node's KeyRing and RequestVerifier. */
  signing?: Partial<Config["signing"]>;
  /** Overrides of this node's NodeKeys options (no rotation, 7 days' retention, published for a day). */
  keys?: Partial<NodeKeysOptions>;
}

const ROOT = path.join(__dirname, "..", "..");

let template: Promise<string> | undefined;

/**
 * A migrated, empty PGlite data directory to copy. Creating a PGlite database
 * takes seconds; copying one and opening the copy takes well under one. The
 * template is kept in the temp directory under a name derived from the
 * migrations and the PGlite version, so test files (and runs) share it, and
 * is built aside and renamed into place, so a half-built one is never used.
 */
function storeTemplate(): Promise<string> {
  template ??= (async () => {
    const hash = createHash("sha256");
    const migrations = path.join(ROOT, "src", "store", "migrations");
    for (const name of readdirSync(migrations).sort()) hash.update(name).update(readFileSync(path.join(migrations, name)));
    hash.update(readFileSync(path.join(ROOT, "node_modules", "@electric-sql", "pglite", "package.json")));
    const dir = path.join(tmpdir(), `webcall-test-store-${hash.digest("hex").slice(0, 16)}`);
    if (existsSync(dir)) return dir;
    const build = mkdtempSync(path.join(tmpdir(), "webcall-test-store-build-"));
    const store = await openStore({ dataDir: build });
    await store.close();
    try {
      renameSync(build, dir);
    } catch {
      rmSync(build, { recursive: true, force: true }); // another test file built it first
    }
    return dir;
  })();
  return template;
}

/** A fresh, migrated, empty store (a copy of the template) in a new temporary directory. */
export async function openTestStore(): Promise<{ store: Store; dir: string }> {
  const source = await storeTemplate();
  const dir = mkdtempSync(path.join(tmpdir(), "webcall-signing-"));
  cpSync(source, dir, { recursive: true });
  return { store: await openStore({ dataDir: dir }), dir };
}

/** Deletes every signing key from `store`, through the Store API. */
export async function clearSigningKeys(store: Store): Promise<void> {
  for (const k of await store.listSigningKeys()) if (k.expiredAt === null) await store.retireSigningKey(k.keyId, 0);
  await store.deleteSigningKeysRetiredBefore(Number.MAX_SAFE_INTEGER);
}

/**
 * One node's signing parts, as src/bridge.ts wires them, over a real
 * (embedded PGlite) store in a temporary directory. `nodes` maps other
 * nodes' domains to their endpoints (plain http on loopback allowed); the
 * very object is used as outbound.nodes, so entries may be added later
 * (e.g. once the other nodes' listeners have ports).
 */
export class NodeSigning {
  private server: WebCallServer | undefined;
  /** The FakeNode behind this node's listener (see listen()). */
  readonly node = new FakeNode();

  private constructor(
    readonly domain: string,
    readonly store: Store,
    readonly keys: NodeKeys,
    readonly http: OutboundHttp,
    readonly discovery: NodeDiscovery,
    readonly keyring: KeyRing,
    readonly verifier: RequestVerifier,
    readonly callers: CallerCheck,
    private readonly dir: string,
    /** This node's outbound.nodes (the very object its NodeDiscovery reads). */
    readonly nodes: Record<string, string> = {},
  ) {}

  static async open(domain: string, nodes: Record<string, string> = {}, options: NodeSigningOptions = {}): Promise<NodeSigning> {
    const { store, dir } = await openTestStore();
    const now = options.now ?? Date.now;
    const signing = { ...SIGNING_DEFAULTS, ...options.signing };
    const keys = await NodeKeys.open(store, domain, {
      rotateAfterMs: 0, oldKeyRetentionMs: 7 * 86_400_000, publishForMs: signing.publishForMs, now, ...options.keys,
    });
    const outbound = outboundConfig({ allowHttp: true, allowPrivateNetworks: true, timeoutMs: 2000, nodes });
    const http = new OutboundHttp(outbound);
    const discovery = new NodeDiscovery(http, outbound);
    const keyring = new KeyRing(http, discovery, signing, keys, now);
    const verifier = new RequestVerifier(keyring, domain, signing.replayCacheSize, now);
    const callers = new CallerCheck(keyring, new Authority(discovery), now);
    return new NodeSigning(domain, store, keys, http, discovery, keyring, verifier, callers, dir, outbound.nodes);
  }

  /**
   * Starts this node's real WebCall listener on 127.0.0.1 (createWebCallServer
   * over `this.node`, publishing this node's keys at {endpoint}/keys and
   * checking signatures on POSTs). Resolves with the endpoint.
   */
  async listen(): Promise<string> {
    if (this.server) throw new Error(`${this.domain} is already listening`);
    this.server = createWebCallServer(this.node, webcallConfig({ publicUrl: `https://${this.domain}/webcall` }), this);
    const { port } = await this.server.listen();
    return `http://127.0.0.1:${port}/webcall`;
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.http.close();
    await this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Opens one NodeSigning per domain (each with its own store, no nodes configured yet), in parallel. */
export function openNodes<const D extends readonly string[]>(domains: D, options: NodeSigningOptions = {}): Promise<{ -readonly [K in keyof D]: NodeSigning }> {
  return Promise.all(domains.map((d) => NodeSigning.open(d, {}, options))) as Promise<{ -readonly [K in keyof D]: NodeSigning }>;
}

/** What a KeysHost answers for one path. */
export interface HostedAnswer {
  status?: number;
  /** Sent as is when a string, else as JSON. */
  body: unknown;
}

/**
 * A tiny real HTTP server on 127.0.0.1 that answers `GET /{name}/keys`, so
 * `http://127.0.0.1:{port}/{name}` can be configured as a node's endpoint.
 * It counts the requests for each name, and each answer is produced afresh
 * per request (so it follows key rotations, and tests can make it fail or lie).
 */
export class KeysHost {
  private readonly answers = new Map<string, () => HostedAnswer>();
  private readonly counts = new Map<string, number>();

  private readonly server = http.createServer((req, res) => this.handle(req, res));

  private constructor() {}

  static async start(): Promise<KeysHost> {
    const host = new KeysHost();
    await new Promise<void>((resolve) => host.server.listen(0, "127.0.0.1", resolve));
    return host;
  }

  /** `http://127.0.0.1:{port}` */
  get base(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Serves `keys.document()` under `name`; returns the endpoint. */
  publish(name: string, keys: NodeKeys): string {
    return this.serve(name, () => ({ body: keys.document() }));
  }

  /** Serves whatever `answer` produces under `name`; returns the endpoint. */
  serve(name: string, answer: () => HostedAnswer): string {
    this.answers.set(name, answer);
    return `${this.base}/${name}`;
  }

  /** How many requests `/{name}/keys` has had. */
  requests(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const m = /^\/([^/]+)\/keys$/.exec(req.url ?? "");
    const answer = m && req.method === "GET" ? this.answers.get(m[1]!) : undefined;
    if (!m || !answer) {
      res.writeHead(404, { "Content-Type": "application/json" }).end('{"errcode":"WEBCALL_NOT_FOUND","error":"no such endpoint"}');
      return;
    }
    this.counts.set(m[1]!, this.requests(m[1]!) + 1);
    const { status = 200, body } = answer();
    res.writeHead(status, { "Content-Type": "application/json" }).end(typeof body === "string" ? body : JSON.stringify(body));
  }
}

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public t: number = Date.now()) {}
  readonly now = (): number => this.t;
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}
