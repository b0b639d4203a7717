import { Config } from "./config/schema";
import { BotCommands } from "./bot/BotCommands";
import { CallCore } from "./calls/CallCore";
import { rotaConnector } from "./calls/connectors";
import { MatrixUserId } from "./ids/matrix";
import { RulesService } from "./rules/RulesService";
import { CalendarFeeds } from "./rota/CalendarFeeds";
import { Loopback } from "./calls/Loopback";
import { PartyChannel } from "./calls/PartyChannel";
import { LocalUsers } from "./ids/localUsers";
import { VirtualUsers } from "./ids/virtualUsers";
import { logger, setLogLevel } from "./log";
import { AppserviceListener } from "./matrix/AppserviceListener";
import { CallCards } from "./matrix/CallCards";
import { failureKind } from "./matrix/failures";
import { DmInvites } from "./matrix/DmInvites";
import { DmRooms } from "./matrix/DmRooms";
import { HomeserverClient } from "./matrix/HomeserverClient";
import { HomeserverPing } from "./matrix/HomeserverPing";
import { UserDirectory } from "./matrix/UserDirectory";
import { VirtualUserRegistry } from "./matrix/VirtualUserRegistry";
import { openStore } from "./store";
import { Store } from "./store/Store";
import { NotifyClient } from "./webcall/notifyClient";
import { NodeDiscovery } from "./net/discovery";
import { OutboundHttp } from "./net/outboundHttp";
import { createWebCallServer } from "./webcall/server";
import { callLinkBase } from "./webcall/callPage/link";
import { Authority } from "./signing/Authority";
import { CallerCheck } from "./signing/CallerCheck";
import { KeyRing } from "./signing/KeyRing";
import { NodeKeys } from "./signing/NodeKeys";
import { RequestVerifier } from "./signing/RequestVerifier";
import { HandoverAnnouncer } from "./rota/HandoverAnnouncer";
import { systemClock } from "./util/monotonicClock";

const log = logger("bridge");
const DAY_MS = 86_400_000;
/** How often the signing key's age is checked against signing.rotateAfterDays. */
const ROTATION_CHECK_MS = 3_600_000;

/** How often the start-up ping is retried, after its first backoff, until the homeserver answers. */
const PING_RETRY_EVERY_MS = 30_000;

/**
 * The provisioning module, loaded only when provisioning is enabled. It is
 * matrix-appservice-bridge's ProvisioningApi, and that package loads
 * @vector-im/matrix-bot-sdk, whose htmlencode dependency calls the
 * deprecated util._extend as it loads: a DEP0060 warning on every start.
 * No release of either avoids it (the bot-sdk is pinned by the bridge
 * library; htmlencode's last release is from 2013), so while that one
 * module loads, exactly that warning code is dropped; every other warning,
 * and DEP0060 from anything later, still shows.
 */
function loadProvisioning(): typeof import("./provisioning") {
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
    const code = typeof rest[0] === "object" && rest[0] !== null ? (rest[0] as { code?: unknown }).code : rest[1];
    if (code === "DEP0060") return;
    (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on demand, see above
    return require("./provisioning") as typeof import("./provisioning");
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** The parts of the registration file the running bridge needs. */
export interface BridgeRegistration {
  id: string;
  as_token: string;
  hs_token: string;
  sender_localpart: string;
  /** Where the homeserver pushes to (only named in the start-up ping's advice). */
  url?: string | null;
}

export interface RunningBridge {
  appservicePort: number;
  webcallPort: number;
  /** Set when the provisioning API is enabled. */
  provisioningPort?: number;
  store: Store;
  /** The call core (tests ring groups through its internal API). */
  core: CallCore;
  /** Retires the signing key and signs with a new one from now on. */
  rotateSigningKey(): Promise<void>;
  stop(): Promise<void>;
}

/** Wires the store, both listeners and the call core together and starts them. */
export interface BridgeOptions {
  /** The clock rules are read against (tests shift it to a chosen time). */
  now?: () => number;
  /** The config file's path, for the operator's advice in the log (default config.yaml). */
  configPath?: string;
}

export async function runBridge(config: Config, registration: BridgeRegistration, appservicePort: number,
  options: BridgeOptions = {}): Promise<RunningBridge> {
  const now = options.now ?? Date.now;
  // One monotonic clock for the listener's arrival times and the call core's
  // neutral answers, which are measured from them.
  const clock = systemClock;
  setLogLevel(config.logging.level);
  const store = await openStore({ url: config.database.url, dataDir: config.database.dataDir, maxConnections: config.database.maxConnections });
  const homeserver = new HomeserverClient({ baseUrl: config.homeserver.url, asToken: registration.as_token, timeoutMs: config.homeserver.requestTimeoutMs });
  const virtualUsers = new VirtualUsers(config.bridge.userPrefix, config.homeserver.domain);
  const outbound = new OutboundHttp(config.outbound);
  const domain = config.homeserver.domain.toLowerCase();
  const keys = await NodeKeys.open(store, domain, {
    rotateAfterMs: config.signing.rotateAfterDays * DAY_MS,
    oldKeyRetentionMs: config.signing.oldKeyRetentionDays * DAY_MS,
    publishForMs: config.signing.publishForMs,
  });
  const discovery = new NodeDiscovery(outbound, config.outbound);
  const keyring = new KeyRing(outbound, discovery, config.signing, keys);
  const notify = new NotifyClient(outbound, keys);
  const loopback = new Loopback({ publicUrl: config.webcall.publicUrl, domain }, notify, clock);
  const rooms = new DmRooms(store, homeserver);
  const registry = new VirtualUserRegistry(store, homeserver);
  const rules = new RulesService(store, {
    maxRules: config.rules.maxRulesPerUser, defaultTimeZone: config.rules.defaultTimeZone, bridgeDefault: config.rules.defaultAction,
  });
  const botUserId = `@${registration.sender_localpart}:${config.homeserver.domain}` as MatrixUserId;
  const localUsers = new LocalUsers(config.homeserver.domain, (id) => virtualUsers.isVirtual(id) || id === botUserId);
  const isRotaMember = (id: MatrixUserId) => id !== botUserId && !virtualUsers.isVirtual(id) && localUsers.addressOf(id) !== undefined;
  const rotaSide = rotaConnector({ store: store.rotas, homeserver, botUserId, bridgeDefault: config.rules.defaultAction, isMember: isRotaMember });
  const calendars = new CalendarFeeds(store.calendars, {
    publicUrl: config.webcall.publicUrl, domain, membersOf: (rota) => rotaSide.members(rota), rota: (name) => store.rotas.getRota(name),
  });
  const announcer = new HandoverAnnouncer(store.rotas, { members: (r) => rotaSide.members(r), notice: (...a) => rotaSide.notice(...a) }, { now });
  const core = new CallCore({
    calls: config.calls,
    rules,
    maxForwardHops: config.rules.maxForwardHops,
    forwardBudgetMs: Math.max(1000, config.webcall.requestTimeoutMs - 2000),
    store,
    homeserver,
    users: new UserDirectory(homeserver),
    rooms,
    dmInvites: new DmInvites(homeserver, registry, rooms),
    registry,
    virtualUsers,
    localUsers,
    party: new PartyChannel(store, loopback),
    loopback,
    discovery,
    outbound,
    keys,
    callers: new CallerCheck(keyring, new Authority(discovery)),
    rotas: rotaSide,
    self: { publicUrl: config.webcall.publicUrl, domain },
    now,
    clock,
  });
  const bot = new BotCommands(homeserver, store, rules, localUsers, virtualUsers, {
    botUserId, bridgeDefault: config.rules.defaultAction, bridgeTimeZone: config.rules.defaultTimeZone, now,
    maxRules: config.rules.maxRulesPerUser, calendars, onRotaChange: (name) => announcer.edited(name),
    callLinkBase: callLinkBase(config.callPage, config.webcall.publicUrl),
  });
  // "bridge running" waits for the homeserver's answer: a bridge it cannot reach (or that cannot reach it) is not running.
  const listening: Record<string, unknown> = {};
  const ping = new HomeserverPing(homeserver, {
    appserviceId: registration.id, bridgeUrl: registration.url ?? null, homeserverUrl: config.homeserver.url,
    configPath: options.configPath, thenEveryMs: PING_RETRY_EVERY_MS, onReachable: () => log.info("bridge running", listening),
  });
  const appservice = new AppserviceListener({
    hsToken: registration.hs_token,
    bind: config.appservice.bind,
    port: appservicePort,
    maxBodyBytes: config.appservice.maxBodyBytes,
    // The bridge's own echoes are passed over before they are parsed.
    isOwnUser: (userId) => virtualUsers.isVirtual(userId) || userId === botUserId,
    isRelevant: (event) => core.isRelevant(event) || bot.isRelevant(event),
    // A command run twice is not harmless ("remove 2"); every call event is.
    atMostOnce: (event) => event.type === "m.room.message" && bot.isRelevant(event),
    onEvent: async (event, receivedAt) => {
      // Each side on its own (a leave concerns both): one's refusal must not
      // keep the event from the other. A failure that may pass wins, so the
      // homeserver sends the event again.
      const failures: unknown[] = [];
      if (bot.isRelevant(event)) await bot.onEvent(event).catch((e: unknown) => { failures.push(e); });
      if (core.isRelevant(event)) await core.onMatrixEvent(event, receivedAt).catch((e: unknown) => { failures.push(e); });
      if (failures.length > 0) throw failures.find((e) => failureKind(e) === "passing") ?? failures[0];
    },
    onUserQuery: (userId) => core.provisionVirtualUser(userId),
    health: () => ({ homeserver: ping.last }),
  }, store);
  const webcall = createWebCallServer(core, config.webcall, {
    keys, verifier: new RequestVerifier(keyring, domain, config.signing.replayCacheSize),
  }, {
    clock,
    calendar: (name, secret, weeks) => calendars.feed(name, secret, now(), weeks),
    callPage: {
      config: config.callPage, domain, directory: new CallCards(homeserver, rules, localUsers, now),
      cardFloorMs: config.calls.neutralAnswerMs, now,
    },
  });
  const rotation = setInterval(() => {
    keys.rotateIfDue().catch((err: Error) => log.error("could not rotate the signing key", { error: err.message }));
  }, ROTATION_CHECK_MS);
  rotation.unref();

  await core.resume();
  // Not awaited: a rota room read from a homeserver not up yet is tried again later.
  void announcer.start();
  const asPort = await appservice.listen();
  const { port: wcPort } = await webcall.listen();
  const provisioning = config.provisioning.enabled ? await loadProvisioning().startProvisioning(config, rules, store, {
      rotas: bot.rotas, calendars, localUsers, now, homeserver, botUserId, isMember: isRotaMember,
    })
    : undefined;
  Object.assign(listening, { appservicePort: asPort, webcallPort: wcPort, provisioningPort: provisioning?.port, store: config.database.url ? "postgresql" : "pglite" });
  log.info(`listening; waiting for the homeserver at ${config.homeserver.url}`, listening);
  // Only once the homeserver can reach us: a good ping also ends Synapse's backoff of pushes that failed while we were down.
  ping.start();

  return {
    appservicePort: asPort,
    webcallPort: wcPort,
    provisioningPort: provisioning?.port,
    store,
    core,
    rotateSigningKey: () => keys.rotate(),
    async stop() {
      clearInterval(rotation);
      ping.stop();
      await provisioning?.close();
      await webcall.close();
      await appservice.close();
      await loopback.idle();
      await core.stop();
      await announcer.stop();
      await notify.close();
      outbound.close();
      homeserver.close();
      await store.close();
    },
  };
}

