import { MatrixUserId, RoomId } from "../ids/matrix";
import { DmRoom, Store } from "../store/Store";
import { HomeserverClient, MatrixRequestError } from "./HomeserverClient";

/**
 * The one two-person room per (Matrix user, virtual user) pair in which calls
 * between them ring. Cached in memory in front of the store; created by the
 * virtual user on first contact, with the Matrix user invited.
 */
export class DmRooms {
  private readonly byPair = new Map<string, DmRoom>();
  private readonly byRoom = new Map<string, DmRoom>();

  constructor(private readonly store: Store, private readonly homeserver: HomeserverClient) {}

  async find(matrixUserId: MatrixUserId, virtualUserId: MatrixUserId): Promise<DmRoom | undefined> {
    const cached = this.byPair.get(pairKey(matrixUserId, virtualUserId));
    if (cached) return cached;
    const stored = await this.store.getDmRoom(matrixUserId, virtualUserId);
    if (stored) this.remember(stored);
    return stored;
  }

  async findByRoomId(roomId: RoomId): Promise<DmRoom | undefined> {
    const cached = this.byRoom.get(roomId);
    if (cached) return cached;
    const stored = await this.store.getDmRoomById(roomId);
    if (stored) this.remember(stored);
    return stored;
  }

  /** The DM for the pair, created (and the Matrix user invited) if there is none. */
  async ensure(matrixUserId: MatrixUserId, virtualUserId: MatrixUserId): Promise<{ room: DmRoom; created: boolean }> {
    const existing = await this.find(matrixUserId, virtualUserId);
    if (existing) return { room: existing, created: false };
    const roomId = await this.homeserver.createRoom(virtualUserId, {
      preset: "trusted_private_chat",
      is_direct: true,
      invite: [matrixUserId],
      visibility: "private",
    });
    const room: DmRoom = { matrixUserId, virtualUserId, roomId, matrixUserJoined: false };
    await this.store.putDmRoom(room);
    this.remember(room);
    return { room, created: true };
  }

  /** Makes `room` the pair's DM (a room the Matrix user invited the virtual user to). */
  async adopt(room: DmRoom): Promise<void> {
    const previous = await this.find(room.matrixUserId, room.virtualUserId);
    await this.store.putDmRoom(room);
    if (previous) this.byRoom.delete(previous.roomId);
    this.remember(room);
  }

  /** Invites the Matrix user back into a DM they left; if the virtual user
   *  can no longer invite there, a new DM replaces the old one. */
  async reinvite(room: DmRoom): Promise<DmRoom> {
    try {
      await this.homeserver.invite(room.virtualUserId, room.roomId, room.matrixUserId);
      return room;
    } catch (err) {
      if (!(err instanceof MatrixRequestError) || err.status !== 403) throw err;
      await this.forget(room.roomId);
      return (await this.ensure(room.matrixUserId, room.virtualUserId)).room;
    }
  }

  async setJoined(roomId: RoomId, joined: boolean): Promise<DmRoom | undefined> {
    const room = await this.findByRoomId(roomId);
    if (!room || room.matrixUserJoined === joined) return room;
    await this.store.setMatrixUserJoined(roomId, joined);
    const updated = { ...room, matrixUserJoined: joined };
    this.remember(updated);
    return updated;
  }

  async forget(roomId: RoomId): Promise<void> {
    const room = this.byRoom.get(roomId) ?? await this.store.getDmRoomById(roomId);
    await this.store.deleteDmRoom(roomId);
    this.byRoom.delete(roomId);
    if (room) this.byPair.delete(pairKey(room.matrixUserId, room.virtualUserId));
  }

  private remember(room: DmRoom): void {
    this.byPair.set(pairKey(room.matrixUserId, room.virtualUserId), room);
    this.byRoom.set(room.roomId, room);
  }
}

function pairKey(a: string, b: string): string {
  return `${a}\u0000${b}`;
}
