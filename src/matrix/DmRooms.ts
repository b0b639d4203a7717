import { MatrixUserId, RoomId } from "../ids/matrix";
import { DmRoom, Store } from "../store/Store";
import { HomeserverClient, MatrixRequestError } from "./HomeserverClient";

/** A DM the homeserver made end-to-end encrypted is given up, and says why in its name and topic. */
export const ENCRYPTED_DM_NAME = "Calls cannot ring here (encrypted room)";
export const ENCRYPTED_DM_REASON =
  "This homeserver makes new rooms end-to-end encrypted, and the WebCall bridge cannot take part in encrypted rooms, so calls cannot ring you here. Your homeserver's admin can leave direct chats unencrypted (Synapse: encryption_enabled_by_default_for_room_type).";

/** The pair's DM, or why there can be none. */
export type EnsuredDm = { room: DmRoom; created: boolean } | { encrypted: true };

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

  /**
   * The DM for the pair, created (and the Matrix user invited) if there is
   * none. Synapse's `encryption_enabled_by_default_for_room_type` adds
   * m.room.encryption to every room it creates, after any `initial_state`
   * (handlers/room.py, `_send_events_for_new_room`), so a request cannot ask
   * for a plain room: a new DM is checked, and one that came out encrypted
   * is given up, with the reason in its name and topic (state is never
   * encrypted). The virtual user stays in it: were it to leave, no one
   * would be joined, and Synapse would refuse the invited user's join as a
   * join of a remote room, so they could never read why.
   */
  async ensure(matrixUserId: MatrixUserId, virtualUserId: MatrixUserId): Promise<EnsuredDm> {
    const existing = await this.find(matrixUserId, virtualUserId);
    if (existing) return { room: existing, created: false };
    const roomId = await this.homeserver.createRoom(virtualUserId, {
      preset: "trusted_private_chat",
      is_direct: true,
      invite: [matrixUserId],
      visibility: "private",
    });
    if (await this.homeserver.stateEvent(virtualUserId, roomId, "m.room.encryption")) {
      await this.homeserver.sendState(virtualUserId, roomId, "m.room.name", { name: ENCRYPTED_DM_NAME });
      await this.homeserver.sendState(virtualUserId, roomId, "m.room.topic", { topic: ENCRYPTED_DM_REASON });
      return { encrypted: true };
    }
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
  async reinvite(room: DmRoom): Promise<EnsuredDm> {
    try {
      await this.homeserver.invite(room.virtualUserId, room.roomId, room.matrixUserId);
      return { room, created: false };
    } catch (err) {
      if (!(err instanceof MatrixRequestError) || err.status !== 403) throw err;
      // Synapse answers 403 both when the invite is not allowed (the virtual
      // user was removed) and when the callee is already in the room: a join
      // whose push has not reached the bridge yet. Only the first is a lost DM.
      const members = await this.homeserver.joinedMembers(room.virtualUserId, room.roomId).catch(() => [] as string[]);
      if (members.includes(room.matrixUserId) && members.includes(room.virtualUserId)) {
        return { room: await this.setJoined(room.roomId, true) ?? { ...room, matrixUserJoined: true }, created: false };
      }
      await this.forget(room.roomId);
      return this.ensure(room.matrixUserId, room.virtualUserId);
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
