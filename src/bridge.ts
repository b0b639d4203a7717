import { Config } from "./config/schema";
import { CallCore } from "./calls/CallCore";
import { PartyChannel } from "./calls/PartyChannel";
import { LocalUsers } from "./ids/localUsers";
import { VirtualUsers } from "./ids/virtualUsers";
import { logger, setLogLevel } from "./log";
import { AppserviceListener } from "./matrix/AppserviceListener";
import { DmInvites } from "./matrix/DmInvites";
import { DmRooms } from "./matrix/DmRooms";
import { HomeserverClient } from "./matrix/HomeserverClient";
import { VirtualUserRegistry } from "./matrix/VirtualUserRegistry";
import { openStore } from "./store";
import { Store } from "./store/Store";
import { NotifyClient } from "./webcall/notifyClient";
import { NodeDiscovery } from "./webcall/discovery";
import { OutboundHttp } from "./webcall/outboundHttp";
import { createWebCallServer } from "./webcall/server";

const log = logger("bridge");

/** The parts of the registration file the running bridge needs. */
export interface BridgeRegistration {
  id: string;
  as_token: string;
  hs_token: string;
  sender_localpart: string;
}

export interface RunningBridge {
  appservicePort: number;
  webcallPort: number;
  store: Store;
  stop(): Promise<void>;
}

/** Wires the store, both listeners and the call core together and starts them. */
export async function runBridge(config: Config, registration: BridgeRegistration, appservicePort: number): Promise<RunningBridge> {
  setLogLevel(config.logging.level);
  const store = await openStore({ url: config.database.url, dataDir: config.database.dataDir, maxConnections: config.database.maxConnections });
  const homeserver = new HomeserverClient({ baseUrl: config.homeserver.url, asToken: registration.as_token, timeoutMs: config.homeserver.requestTimeoutMs });
  const virtualUsers = new VirtualUsers(config.bridge.userPrefix, config.homeserver.domain);
  const outbound = new OutboundHttp(config.outbound);
  const notify = new NotifyClient(outbound);
  const rooms = new DmRooms(store, homeserver);
  const registry = new VirtualUserRegistry(store, homeserver);
  const core = new CallCore({
    calls: config.calls,
    store,
    homeserver,
    rooms,
    dmInvites: new DmInvites(homeserver, registry, rooms),
    registry,
    virtualUsers,
    localUsers: new LocalUsers(config.homeserver.domain, (id) => virtualUsers.isVirtual(id) || id === `@${registration.sender_localpart}:${config.homeserver.domain}`),
    party: new PartyChannel(store, notify),
    discovery: new NodeDiscovery(outbound, config.outbound),
    outbound,
    self: { publicUrl: config.webcall.publicUrl, domain: config.homeserver.domain.toLowerCase() },
    now: Date.now,
  });
  const appservice = new AppserviceListener({
    hsToken: registration.hs_token,
    bind: config.appservice.bind,
    port: appservicePort,
    maxBodyBytes: config.appservice.maxBodyBytes,
    isRelevant: (event) => core.isRelevant(event),
    onEvent: (event, receivedAt) => core.onMatrixEvent(event, receivedAt),
    onUserQuery: (userId) => core.provisionVirtualUser(userId),
  }, store);
  const webcall = createWebCallServer(core, config.webcall);

  await core.resume();
  const asPort = await appservice.listen();
  const { port: wcPort } = await webcall.listen();
  log.info("bridge running", { appservicePort: asPort, webcallPort: wcPort, store: config.database.url ? "postgresql" : "pglite" });

  return {
    appservicePort: asPort,
    webcallPort: wcPort,
    store,
    async stop() {
      await webcall.close();
      await appservice.close();
      await core.stop();
      await notify.close();
      outbound.close();
      homeserver.close();
      await store.close();
    },
  };
}

