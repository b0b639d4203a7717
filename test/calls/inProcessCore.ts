/**
 * The call core wired as src/bridge.ts wires it (real store on PGlite, real
 * RulesService, real homeserver client against the in-process test
 * homeserver), minus the HTTP listeners, with two things a test controls:
 * the monotonic clock, and how the homeserver's existence lookups answer.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import yaml from "js-yaml";
import { CallCore } from "../../src/calls/CallCore";
import { Loopback } from "../../src/calls/Loopback";
import { PartyChannel } from "../../src/calls/PartyChannel";
import { parseConfig } from "../../src/config/load";
import { setLogLevel } from "../../src/log";
import { LocalUsers } from "../../src/ids/localUsers";
import { MatrixUserId } from "../../src/ids/matrix";
import { VirtualUsers } from "../../src/ids/virtualUsers";
import { DmInvites } from "../../src/matrix/DmInvites";
import { DmRooms } from "../../src/matrix/DmRooms";
import { HomeserverClient } from "../../src/matrix/HomeserverClient";
import { UserDirectory } from "../../src/matrix/UserDirectory";
import { VirtualUserRegistry } from "../../src/matrix/VirtualUserRegistry";
import { RulesService } from "../../src/rules/RulesService";
import { Authority } from "../../src/signing/Authority";
import { CallerCheck } from "../../src/signing/CallerCheck";
import { KeyRing } from "../../src/signing/KeyRing";
import { NodeKeys } from "../../src/signing/NodeKeys";
import { openStore } from "../../src/store";
import { Store } from "../../src/store/Store";
import { NodeDiscovery } from "../../src/net/discovery";
import { NotifyClient } from "../../src/webcall/notifyClient";
import { OutboundHttp } from "../../src/net/outboundHttp";
import { TestHomeserver } from "../homeserver";
import { ManualClock } from "../support/manualClock";

export const DOMAIN = "example.org";
/** A domain whose node refuses connections: a call forwarded there fails to relay. */
export const DEAD_NODE_DOMAIN = "dead.test";
const AS_TOKEN = "as-token-for-the-in-process-core";

/** The homeserver's answers to "does this user exist?", unless a test scripts them. */
export class ScriptedDirectory extends UserDirectory {
  /** When set, answers in place of the homeserver. */
  script?: (userId: MatrixUserId) => Promise<boolean>;

  override exists(userId: MatrixUserId): Promise<boolean> {
    return this.script ? this.script(userId) : super.exists(userId);
  }
}

export interface InProcessCore {
  core: CallCore;
  clock: ManualClock;
  rules: RulesService;
  users: ScriptedDirectory;
  hs: TestHomeserver;
  close(): Promise<void>;
}

export async function startInProcessCore(neutralAnswerMs: number): Promise<InProcessCore> {
  const hs = await TestHomeserver.start({ serverName: DOMAIN });
  // Nothing listens at the appservice URL: pushes to it fail and are retried
  // in the background, which the call core never waits for.
  hs.registerAppservice({
    id: "webcall", url: "http://127.0.0.1:9", as_token: AS_TOKEN, hs_token: "hs-token", sender_localpart: "webcall",
    namespaces: { users: [{ exclusive: true, regex: "@webcall_.*:example\\.org" }] },
  });
  const dir = await mkdtemp(path.join(tmpdir(), "webcall-core-"));
  const config = parseConfig(yaml.dump({
    homeserver: { url: hs.url, domain: DOMAIN },
    webcall: { publicUrl: "http://127.0.0.1:1/webcall" },
    calls: { neutralAnswerMs },
    rules: { defaultAction: "ring" },
    outbound: { allowHttp: true, allowPrivateNetworks: true, nodes: { [DEAD_NODE_DOMAIN]: "http://127.0.0.1:1/webcall" } },
    logging: { level: process.env.WEBCALL_TEST_LOG ?? "error" },
  }), "in-process core");
  setLogLevel(config.logging.level);
  const store: Store = await openStore({ dataDir: path.join(dir, "db") });
  const clock = new ManualClock();
  const homeserver = new HomeserverClient({ baseUrl: hs.url, asToken: AS_TOKEN, timeoutMs: config.homeserver.requestTimeoutMs });
  const virtualUsers = new VirtualUsers(config.bridge.userPrefix, DOMAIN);
  const outbound = new OutboundHttp(config.outbound);
  const keys = await NodeKeys.open(store, DOMAIN, { rotateAfterMs: 0, oldKeyRetentionMs: 86_400_000, publishForMs: config.signing.publishForMs });
  const discovery = new NodeDiscovery(outbound, config.outbound);
  const rooms = new DmRooms(store, homeserver);
  const registry = new VirtualUserRegistry(store, homeserver);
  const rules = new RulesService(store, { maxRules: 100, defaultTimeZone: "UTC", bridgeDefault: config.rules.defaultAction });
  const users = new ScriptedDirectory(homeserver);
  const self = { publicUrl: config.webcall.publicUrl, domain: DOMAIN };
  const loopback = new Loopback(self, new NotifyClient(outbound, keys), clock);
  const botUserId = `@webcall:${DOMAIN}`;
  const core = new CallCore({
    calls: config.calls,
    rules,
    maxForwardHops: config.rules.maxForwardHops,
    forwardBudgetMs: 1000,
    store,
    homeserver,
    users,
    rooms,
    dmInvites: new DmInvites(homeserver, registry, rooms),
    registry,
    virtualUsers,
    localUsers: new LocalUsers(DOMAIN, (id) => virtualUsers.isVirtual(id) || id === botUserId),
    party: new PartyChannel(store, loopback),
    loopback,
    discovery,
    outbound,
    keys,
    callers: new CallerCheck(new KeyRing(outbound, discovery, config.signing, keys), new Authority(discovery)),
    self,
    now: Date.now,
    clock,
  });
  return {
    core, clock, rules, users, hs,
    async close() {
      await core.stop();
      await store.close();
      await hs.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
