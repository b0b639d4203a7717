import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Config } from "../../src/config/schema";
import { Authority } from "../../src/signing/Authority";
import { CallerCheck } from "../../src/signing/CallerCheck";
import { KeyRing } from "../../src/signing/KeyRing";
import { NodeKeys } from "../../src/signing/NodeKeys";
import { RequestVerifier } from "../../src/signing/RequestVerifier";
import { openStore, Store } from "../../src/store";
import { NodeDiscovery } from "../../src/webcall/discovery";
import { OutboundHttp } from "../../src/webcall/outboundHttp";
import { outboundConfig } from "../webcall/fakeNode";

export const SIGNING_DEFAULTS: Config["signing"] = {
  rotateAfterDays: 0, oldKeyRetentionDays: 7, publishForMs: 86_400_000,
  peerKeyCacheMs: 3_600_000, peerKeyCacheSize: 100, replayCacheSize: 1000,
};

/**
 * One node's signing parts, as src/bridge.ts wires them, over a real
 * (embedded PGlite) store in a temporary directory. `nodes` maps other
 * nodes' domains to their endpoints (plain http on loopback allowed).
 */
export class NodeSigning {
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
  ) {}

  static async open(domain: string, nodes: Record<string, string> = {}, options: { now?: () => number } = {}): Promise<NodeSigning> {
    const dir = mkdtempSync(path.join(tmpdir(), "webcall-signing-"));
    const store = await openStore({ dataDir: dir });
    const now = options.now ?? Date.now;
    const keys = await NodeKeys.open(store, domain, { rotateAfterMs: 0, oldKeyRetentionMs: 7 * 86_400_000, publishForMs: 86_400_000, now });
    const outbound = outboundConfig({ allowHttp: true, allowPrivateNetworks: true, timeoutMs: 2000, nodes });
    const http = new OutboundHttp(outbound);
    const discovery = new NodeDiscovery(http, outbound);
    const keyring = new KeyRing(http, discovery, SIGNING_DEFAULTS, keys, now);
    const verifier = new RequestVerifier(keyring, domain, SIGNING_DEFAULTS.replayCacheSize, now);
    const callers = new CallerCheck(keyring, new Authority(discovery), now);
    return new NodeSigning(domain, store, keys, http, discovery, keyring, verifier, callers, dir);
  }

  async close(): Promise<void> {
    this.http.close();
    await this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
