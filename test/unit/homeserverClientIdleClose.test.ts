/**
 * The homeserver client's keep-alive pool survives the homeserver (or the
 * proxy in front of it) closing idle connections: a request lost unanswered
 * on a reused connection is sent again at once on a fresh one, and nothing
 * else is.
 */
import { MatrixUserId, RoomId } from "../../src/ids/matrix";
import { HomeserverClient } from "../../src/matrix/HomeserverClient";
import { ClosingPeer, idleGap, PeerMode, startClosingPeer } from "../support/closingPeer";

const ROUNDS = 50;
const IDLE_CLOSE_MS = 20;
const BOT = "@webcall:home.org" as MatrixUserId;
const ROOM = "!room:home.org" as RoomId;

let peer: ClosingPeer | undefined;
let client: HomeserverClient | undefined;
afterEach(async () => {
  client?.close();
  await peer?.close();
  peer = client = undefined;
});

async function homeserver(mode: PeerMode): Promise<HomeserverClient> {
  peer = await startClosingPeer(mode, (method) => (method === "PUT" ? { event_id: "$sent" } : { joined: { [BOT]: {} } }));
  client = new HomeserverClient({ baseUrl: peer.base, asToken: "as-token", timeoutMs: 2000 });
  return client;
}

describe.each<[string, PeerMode]>([
  ["closes connections idle for 20 ms", { idleCloseMs: IDLE_CLOSE_MS }],
  ["closes every reused connection as its request arrives", "reset-reused"],
])("HomeserverClient, with a homeserver that %s", (_name, mode) => {
  it(`sends events and reads members ${ROUNDS} times across idle gaps`, async () => {
    const hs = await homeserver(mode);
    for (let i = 0; i < ROUNDS; i++) {
      expect(await (i % 2 ? hs.joinedMembers(BOT, ROOM) : hs.sendEvent(BOT, ROOM, "m.room.message", { body: `${i}` })))
        .toEqual(i % 2 ? [BOT] : "$sent");
      await idleGap(i, IDLE_CLOSE_MS);
    }
  });
});

describe("HomeserverClient sends a request again only when that cannot repeat anything", () => {
  it("resends once, on a fresh connection, a request a reused connection lost unanswered", async () => {
    const hs = await homeserver("reset-reused");
    await hs.joinedMembers(BOT, ROOM);
    await hs.sendEvent(BOT, ROOM, "m.room.message", { body: "again" });
    expect([peer!.requests, peer!.connections]).toEqual([3, 2]);
  });

  it("does not resend a request a fresh connection lost", async () => {
    const hs = await homeserver("reset-fresh");
    await expect(hs.joinedMembers(BOT, ROOM)).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(peer!.requests).toBe(1);
  });

  it("does not resend a request whose answer had started on a reused connection", async () => {
    const hs = await homeserver("reset-reused-mid-answer");
    await hs.joinedMembers(BOT, ROOM);
    await expect(hs.sendEvent(BOT, ROOM, "m.room.message", { body: "cut" })).rejects.toThrow();
    expect(peer!.requests).toBe(2);
  });
});
