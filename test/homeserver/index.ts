/**
 * An in-process homeserver for tests and benchmarks that behaves like Synapse on the paths the
 * bridge and matrix-js-sdk clients use. See README.md in this folder for what it leaves out.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createApp } from "./app";
import { HomeserverCore } from "./core";
import { plainEvent } from "./format";
import type { AppserviceRegistrationLike, RoomEvent } from "./types";

export type { AppserviceRegistrationLike, NamespaceEntry, RoomEvent } from "./types";

export interface StartOptions {
  /** e.g. "example.org" */
  serverName: string;
  /** Push with ?access_token= instead of the Authorization: Bearer header (older homeservers). */
  legacyAccessTokenPush?: boolean;
}

export interface CreatedUser {
  userId: string;
  accessToken: string;
  deviceId: string;
}

export class TestHomeserver {
  private constructor(
    private readonly core: HomeserverCore,
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(opts: StartOptions): Promise<TestHomeserver> {
    const core = new HomeserverCore(opts.serverName, opts.legacyAccessTokenPush === true);
    const { app } = createApp(core);
    const server = http.createServer(app);
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return new TestHomeserver(core, server, `http://127.0.0.1:${port}`);
  }

  get serverName(): string {
    return this.core.serverName;
  }

  /** Registers (or replaces) an appservice; its sender user is created as Synapse does. */
  registerAppservice(reg: AppserviceRegistrationLike): void {
    this.core.registerAppservice(reg);
  }

  /** Creates a local user and logs in one device. The password defaults to "password". */
  async createUser(localpart: string, opts: { displayName?: string; password?: string } = {}): Promise<CreatedUser> {
    const user = this.core.users.create(localpart, opts.displayName);
    user.password = opts.password ?? "password";
    const s = this.core.users.login(user.userId);
    return { userId: s.userId, accessToken: s.token, deviceId: s.deviceId };
  }

  /** Logs in a further device of an existing user. */
  async loginNewDevice(userId: string): Promise<{ accessToken: string; deviceId: string }> {
    const s = this.core.users.login(userId);
    return { accessToken: s.token, deviceId: s.deviceId };
  }

  /** Closes the server; ends long polls and appservice push loops at once. */
  async stop(): Promise<void> {
    this.core.stop();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Called with every persisted event (client format with room_id). */
  on(event: "event", listener: (ev: RoomEvent) => void): this {
    this.core.on(event, listener);
    return this;
  }

  off(event: "event", listener: (ev: RoomEvent) => void): this {
    this.core.off(event, listener);
    return this;
  }

  timelineOf(roomId: string): RoomEvent[] {
    const room = this.core.rooms.get(roomId);
    if (!room) return [];
    const now = Date.now();
    return room.events.map((e) => plainEvent(e, now));
  }

  membership(roomId: string, userId: string): string | undefined {
    return this.core.rooms.get(roomId)?.membership(userId);
  }

  /** While set, the homeserver drops every request made to it, as if it were down. */
  unreachable(down: boolean): void {
    this.core.unreachable = down;
  }

  /** While set, every request about `userId` is dropped, as if the server were down. */
  unreachableUser(userId: string, down: boolean): void {
    if (down) this.core.unreachableUsers.add(userId);
    else this.core.unreachableUsers.delete(userId);
  }

  /** While down, every push attempt fails and is retried with the same txnId; going up retries at once. */
  appserviceDown(down: boolean): void {
    for (const link of this.core.links.values()) link.setDown(down);
  }
}
