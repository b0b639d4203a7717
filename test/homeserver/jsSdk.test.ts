import type { MatrixClient } from "matrix-js-sdk";
import { TestHomeserver, type CreatedUser } from "./index";
import { quietLogger, unrefLongTimers } from "./testUtil";

describe("test homeserver: matrix-js-sdk clients", () => {
  let hs: TestHomeserver;
  let restoreTimers: () => void;
  let sdk: typeof import("matrix-js-sdk");
  const clients: MatrixClient[] = [];

  /** Starts a syncing client and resolves once its first sync is processed. */
  async function startClient(user: CreatedUser): Promise<MatrixClient> {
    const client = sdk.createClient({
      baseUrl: hs.url,
      accessToken: user.accessToken,
      userId: user.userId,
      deviceId: user.deviceId,
      logger: quietLogger(), // the SDK logs every request at debug level
    });
    clients.push(client);
    const prepared = new Promise<void>((resolve) => {
      client.on(sdk.ClientEvent.Sync, (state) => {
        if (state === sdk.SyncState.Prepared || state === sdk.SyncState.Syncing) resolve();
      });
    });
    await client.startClient({ initialSyncLimit: 10 });
    await prepared;
    return client;
  }

  /** Resolves with the first remote echo of an m.room.message in `roomId`. */
  function nextMessage(client: MatrixClient, roomId: string): Promise<string> {
    return new Promise((resolve) => {
      client.on(sdk.RoomEvent.Timeline, (ev, room) => {
        if (room?.roomId === roomId && ev.getType() === "m.room.message" && ev.getId()?.startsWith("$")) {
          resolve(ev.getContent()["body"] as string);
        }
      });
    });
  }

  beforeAll(async () => {
    restoreTimers = unrefLongTimers();
    sdk = await import("matrix-js-sdk");
    // Some SDK modules still log through the global (loglevel) logger at debug level.
    const { logger } = await import("matrix-js-sdk/lib/logger.js");
    (logger as unknown as { setLevel(level: string): void }).setLevel("error");
    hs = await TestHomeserver.start({ serverName: "example.org" });
  });
  afterAll(async () => {
    for (const c of clients) c.stopClient();
    await hs.stop();
    restoreTimers();
  });

  it("logs in with a token, syncs, creates a room and sees its own message", async () => {
    const alice = await hs.createUser("alice", { displayName: "Alice" });
    const client = await startClient(alice);

    const { room_id: roomId } = await client.createRoom({ name: "SDK room" });
    const seen = nextMessage(client, roomId);
    const { event_id } = await client.sendMessage(roomId, { msgtype: sdk.MsgType.Text, body: "hello from js-sdk" });
    expect(await seen).toBe("hello from js-sdk");

    const room = client.getRoom(roomId)!;
    expect(room.name).toBe("SDK room");
    const timeline = room.getLiveTimeline().getEvents();
    expect(timeline.find((e) => e.getId() === event_id)?.getContent()["body"]).toBe("hello from js-sdk");
    expect(room.getMember(alice.userId)?.name).toBe("Alice");
  });

  it("delivers a DM invite to another client, which joins and receives messages", async () => {
    const carol = await hs.createUser("carol", { displayName: "Carol" });
    const dave = await hs.createUser("dave", { displayName: "Dave" });
    const carolClient = await startClient(carol);
    const daveClient = await startClient(dave);

    const invited = new Promise<string>((resolve) => {
      daveClient.on(sdk.ClientEvent.Room, (room) => {
        if (room.getMyMembership() === "invite") resolve(room.roomId);
      });
    });
    const { room_id: roomId } = await carolClient.createRoom({ is_direct: true, invite: [dave.userId], preset: sdk.Preset.TrustedPrivateChat });
    expect(await invited).toBe(roomId);
    const inviteRoom = daveClient.getRoom(roomId)!;
    expect(inviteRoom.getMyMembership()).toBe("invite");
    expect(inviteRoom.getDMInviter()).toBe(carol.userId);

    await daveClient.joinRoom(roomId);
    const seen = nextMessage(daveClient, roomId);
    await carolClient.sendMessage(roomId, { msgtype: sdk.MsgType.Text, body: "hi dave" });
    expect(await seen).toBe("hi dave");
    expect(daveClient.getRoom(roomId)!.getMember(carol.userId)?.name).toBe("Carol");
  });
});
