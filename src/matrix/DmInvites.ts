import { logger } from "../log";
import { Address } from "../ids/address";
import { MatrixUserId, RoomId, serverOfUser } from "../ids/matrix";
import { CALL_ANSWER, CALL_CANDIDATES, CALL_HANGUP, CALL_INVITE, CALL_NEGOTIATE, CALL_REJECT, CALL_SELECT_ANSWER } from "./callEvents";
import { DmRooms } from "./DmRooms";
import { HomeserverClient } from "./HomeserverClient";
import { VirtualUserRegistry } from "./VirtualUserRegistry";

const log = logger("dm-invites");

export const ENCRYPTED_ROOM_NOTICE =
  "This room is end-to-end encrypted, and this bridge cannot take part in encrypted rooms. Start a new direct chat without encryption to call this address.";

/** Why the virtual user of a local user's address leaves a DM. */
export function ownUserReason(address: Address, ownUser: MatrixUserId): string {
  return `${address} is ${ownUser} on this homeserver: call ${ownUser} directly.`;
}

/**
 * A Matrix user invites a virtual user (`@webcall_alf=40employer.com:…`) to
 * talk to or call that address. The virtual user joins a two-person room and
 * the room becomes the pair's DM; it leaves, saying why, anything else.
 */
export class DmInvites {
  constructor(
    private readonly homeserver: HomeserverClient,
    private readonly registry: VirtualUserRegistry,
    private readonly rooms: DmRooms,
  ) {}

  /** `ownUser`: the address names this user of the homeserver itself. */
  async onInvite(roomId: RoomId, inviter: MatrixUserId, virtualUserId: MatrixUserId, address: Address | null | undefined,
    ownUser?: MatrixUserId): Promise<void> {
    if (!address) {
      // Not an address (or the anonymous caller, who cannot be called back).
      await this.homeserver.leave(virtualUserId, roomId, "This is not a WebCall address that can be called.").catch(() => undefined);
      return;
    }
    if (ownUser) {
      // Bridging a call between two users of one homeserver would only put the bridge in the middle of a Matrix call.
      await this.homeserver.leave(virtualUserId, roomId, ownUserReason(address, ownUser)).catch(() => undefined);
      return;
    }
    // Calls go out through this homeserver's bridge for its own users only; and
    // joining a room on another homeserver needs federation the bridge does not drive.
    const home = serverOfUser(virtualUserId);
    if (serverOfUser(inviter).toLowerCase() !== home.toLowerCase()) {
      await this.homeserver.leave(virtualUserId, roomId, `Only users of ${home} can call WebCall addresses through its bridge.`).catch(() => undefined);
      return;
    }
    await this.registry.ensure(virtualUserId, address);
    await this.homeserver.join(virtualUserId, roomId);
    if (await this.homeserver.stateEvent(virtualUserId, roomId, "m.room.encryption")) {
      await this.homeserver.sendEvent(virtualUserId, roomId, "m.room.message", { msgtype: "m.notice", body: ENCRYPTED_ROOM_NOTICE });
      await this.homeserver.leave(virtualUserId, roomId, "End-to-end encrypted rooms are not supported.");
      return;
    }
    const members = await this.homeserver.joinedMembers(virtualUserId, roomId);
    if (members.length !== 2 || !members.includes(inviter)) {
      await this.homeserver.leave(virtualUserId, roomId, "WebCall addresses only take part in direct chats with one person.");
      return;
    }
    const needed = await this.levelShort(roomId, virtualUserId);
    if (needed !== undefined) {
      await this.homeserver.leave(virtualUserId, roomId,
        `This room's power levels do not let this address call: call events need power level ${needed}. Start a direct chat (not a public room) to call it.`);
      return;
    }
    await this.rooms.adopt({ matrixUserId: inviter, virtualUserId, roomId, matrixUserJoined: true });
    log.info("joined a DM", { roomId, virtualUserId });
  }

  /**
   * The power level the room asks for call events, if the virtual user's is
   * lower. A client's own public_chat preset sets m.call.invite to 50
   * (Synapse handlers/room.py), where an invited user has 0: it would join
   * and every call would fail to ring.
   */
  private async levelShort(roomId: RoomId, virtualUserId: MatrixUserId): Promise<number | undefined> {
    const pl = await this.homeserver.stateEvent(virtualUserId, roomId, "m.room.power_levels") as PowerLevels | undefined;
    if (!pl) return undefined; // no power levels: anyone may send anything
    const mine = pl.users?.[virtualUserId] ?? pl.users_default ?? 0;
    const needed = Math.max(...CALL_EVENT_TYPES.map((type) => pl.events?.[type] ?? pl.events_default ?? 0));
    return mine < needed ? needed : undefined;
  }
}

interface PowerLevels {
  users?: Record<string, number>;
  users_default?: number;
  events?: Record<string, number>;
  events_default?: number;
}

/** Every event type the bridge sends in a DM. */
const CALL_EVENT_TYPES = [CALL_INVITE, CALL_ANSWER, CALL_CANDIDATES, CALL_SELECT_ANSWER, CALL_REJECT, CALL_HANGUP, CALL_NEGOTIATE, "m.room.message"];
