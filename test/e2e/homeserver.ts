/**
 * "A homeserver" for the end-to-end tests: real Synapse (the default, and the
 * judge wherever the two differ) or the in-process one from test/homeserver/,
 * which is faster and can inject faults Synapse cannot (unreachable, pushes
 * failing). Both take their appservice registrations before they start, as
 * Synapse does, and report every persisted event to `onEvent` (Synapse through
 * an observing appservice, so through its real push path).
 */
import { TestHomeserver } from "../homeserver";
import type { AppserviceRegistrationLike, CreatedUser, RoomEvent } from "../homeserver";
import { SynapseServer } from "../synapse/server";

export type HomeserverKind = "synapse" | "inprocess";

export interface HomeserverOptions {
  kind: HomeserverKind;
  serverName: string;
  appservices: AppserviceRegistrationLike[];
  /** Synapse only: top-level homeserver.yaml keys replacing the test defaults. */
  synapseConfig?: Record<string, unknown>;
}

export interface E2EHomeserver {
  readonly kind: HomeserverKind;
  readonly url: string;
  readonly serverName: string;
  /** Where `/_matrix/federation/v1/openid/userinfo` is served (on Synapse, a listener of its own). */
  readonly openIdUrl: string;
  createUser(localpart: string, opts?: { displayName?: string }): Promise<CreatedUser>;
  loginNewDevice(userId: string): Promise<{ accessToken: string; deviceId: string }>;
  /** The room's events, oldest first, as a member would see them. */
  timeline(roomId: string): Promise<RoomEvent[]>;
  membership(roomId: string, userId: string): Promise<string | undefined>;
  onEvent(listener: (ev: RoomEvent) => void): void;
  /** Stops and starts the homeserver on the same data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** The in-process server, for fault injection; throws on Synapse. */
  readonly inProcess: TestHomeserver;
}

export async function startHomeserver(o: HomeserverOptions): Promise<E2EHomeserver> {
  // A suite that configures Synapse tests Synapse's behaviour: the in-process
  // homeserver would ignore the keys and pass without testing anything.
  if (o.kind !== "synapse" && Object.keys(o.synapseConfig ?? {}).length > 0) {
    throw new Error(`synapseConfig (${Object.keys(o.synapseConfig!).join(", ")}) needs Synapse: start this suite with homeserver: "synapse"`);
  }
  if (o.kind === "synapse") return new Synapse(await SynapseServer.start({ serverName: o.serverName, appservices: o.appservices, config: o.synapseConfig }));
  const hs = await TestHomeserver.start({ serverName: o.serverName });
  for (const reg of o.appservices) hs.registerAppservice(reg);
  return new InProcess(hs);
}

/** The homeserver the suites run on unless a suite names one (the in-process one for its faults, or Synapse
 *  for a behaviour only Synapse has, with the reason beside it): WEBCALL_TEST_HOMESERVER, default synapse. */
export function defaultKind(): HomeserverKind {
  return process.env.WEBCALL_TEST_HOMESERVER === "inprocess" ? "inprocess" : "synapse";
}

class Synapse implements E2EHomeserver {
  readonly kind = "synapse";
  constructor(readonly server: SynapseServer) {}
  get url() { return this.server.url; }
  get openIdUrl() { return this.server.openIdUrl; }
  get serverName() { return this.server.serverName; }
  get inProcess(): TestHomeserver { throw new Error("this test needs the in-process homeserver"); }

  async createUser(localpart: string, opts: { displayName?: string } = {}): Promise<CreatedUser> {
    return this.server.register(localpart, { displayName: opts.displayName });
  }

  loginNewDevice(userId: string) {
    return this.server.login(userId);
  }

  async timeline(roomId: string): Promise<RoomEvent[]> {
    const path = `/_synapse/admin/v1/rooms/${encodeURIComponent(roomId)}/messages?dir=f&limit=10000`;
    const body = await this.server.request("GET", path).catch(() => ({ chunk: [] })) as { chunk: RoomEvent[] };
    return body.chunk.map((e) => ({ ...e, room_id: e.room_id ?? roomId }));
  }

  async membership(roomId: string, userId: string): Promise<string | undefined> {
    const path = `/_synapse/admin/v1/rooms/${encodeURIComponent(roomId)}/state`;
    const body = await this.server.request("GET", path).catch(() => ({ state: [] })) as { state: RoomEvent[] };
    const member = body.state.find((e) => e.type === "m.room.member" && e.state_key === userId);
    return member?.content.membership as string | undefined;
  }

  onEvent(listener: (ev: RoomEvent) => void): void {
    this.server.observer.on("event", listener);
  }

  restart() { return this.server.restart(); }
  stop() { return this.server.stop(); }
}

class InProcess implements E2EHomeserver {
  readonly kind = "inprocess";
  constructor(readonly inProcess: TestHomeserver) {}
  get url() { return this.inProcess.url; }
  get openIdUrl() { return this.inProcess.url; }
  get serverName() { return this.inProcess.serverName; }
  createUser(localpart: string, opts: { displayName?: string } = {}) { return this.inProcess.createUser(localpart, opts); }
  loginNewDevice(userId: string) { return this.inProcess.loginNewDevice(userId); }
  async timeline(roomId: string) { return this.inProcess.timelineOf(roomId); }
  async membership(roomId: string, userId: string) { return this.inProcess.membership(roomId, userId); }
  onEvent(listener: (ev: RoomEvent) => void): void { this.inProcess.on("event", listener); }
  restart(): Promise<void> { throw new Error("the in-process homeserver keeps its state in memory and cannot restart"); }
  stop() { return this.inProcess.stop(); }
}
