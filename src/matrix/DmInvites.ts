import { logger } from "../log";
import { Address } from "../ids/address";
import { MatrixUserId, RoomId } from "../ids/matrix";
import { DmRooms } from "./DmRooms";
import { HomeserverClient } from "./HomeserverClient";
import { VirtualUserRegistry } from "./VirtualUserRegistry";

const log = logger("dm-invites");

export const ENCRYPTED_ROOM_NOTICE =
  "This room is end-to-end encrypted, and this bridge cannot take part in encrypted rooms. Start a new direct chat without encryption to call this address.";

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

  async onInvite(roomId: RoomId, inviter: MatrixUserId, virtualUserId: MatrixUserId, address: Address | null | undefined): Promise<void> {
    if (!address) {
      // Not an address (or the anonymous caller, who cannot be called back).
      await this.homeserver.leave(virtualUserId, roomId, "This is not a WebCall address that can be called.").catch(() => undefined);
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
    await this.rooms.adopt({ matrixUserId: inviter, virtualUserId, roomId, matrixUserJoined: true });
    log.info("joined a DM", { roomId, virtualUserId });
  }
}
