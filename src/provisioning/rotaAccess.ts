import { DomainError } from "../errors/DomainError";
import { MatrixUserId, RoomId } from "../ids/matrix";
import { HomeserverClient, MatrixRequestError } from "../matrix/HomeserverClient";
import { joinedInJoinOrder } from "../matrix/roomMembers";
import { Rota, RotaMember } from "../model/rota";
import { roomPower } from "../bot/roomPower";

/**
 * Who may do what with a rota over the API, decided as in the rota's room
 * (src/bot/RotaRooms.ts): anyone joined to the room may read it, and
 * changing it takes a power level at least the room's `state_default`. The
 * room's state is read from the homeserver, as the bot, at every request, so
 * a demotion or a leave counts at once.
 */

type StateEvent = Record<string, unknown>;

export interface RoomStanding {
  joined: boolean;
  canEdit: boolean;
  /** The room's joined members that count as rota members, in join order. */
  joinedMembers: RotaMember[];
}

export interface RotaAccessOptions {
  homeserver: HomeserverClient;
  botUserId: MatrixUserId;
  /** Whether a joined member counts as a rota member: a user of this homeserver, not the bridge's own. */
  isMember(userId: MatrixUserId): boolean;
}

export const rotaNotFound = (): DomainError => new DomainError("WEBCALL_ROTA_NOT_FOUND", "no such rota, or you are not joined to its room");

function membership(state: readonly StateEvent[], userId: MatrixUserId): unknown {
  const event = state.find((e) => e.type === "m.room.member" && e.state_key === userId);
  const content = event?.content;
  return typeof content === "object" && content !== null ? (content as Record<string, unknown>).membership : undefined;
}

export class RotaAccess {
  constructor(private readonly opts: RotaAccessOptions) {}

  /** The user's standing in the room; undefined when the bot cannot read it (it is not in the room). */
  async standing(roomId: RoomId, userId: MatrixUserId): Promise<RoomStanding | undefined> {
    let state: StateEvent[];
    try {
      state = await this.opts.homeserver.roomState(this.opts.botUserId, roomId);
    } catch (error) {
      if (error instanceof MatrixRequestError && (error.status === 403 || error.status === 404)) return undefined;
      throw error;
    }
    const joined = membership(state, userId) === "join";
    const power = roomPower(state);
    return {
      joined,
      canEdit: joined && power.of(userId) >= power.stateDefault,
      joinedMembers: joinedInJoinOrder(state, (id) => !this.opts.isMember(id)).map((id) => ({ kind: "matrix", userId: id })),
    };
  }

  /** The standing of a user who may read the rota; 404 for anyone else, as for a rota that does not exist. */
  async reader(rota: Rota, userId: MatrixUserId): Promise<RoomStanding> {
    const standing = await this.standing(rota.roomId, userId);
    if (!standing?.joined) throw rotaNotFound();
    return standing;
  }

  /** The standing of a user who may change the rota; 403 for a reader who may not. */
  async editor(rota: Rota, userId: MatrixUserId): Promise<RoomStanding> {
    const standing = await this.reader(rota, userId);
    if (!standing.canEdit) throw forbiddenToEdit();
    return standing;
  }
}

export function forbiddenToEdit(): DomainError {
  return new DomainError("WEBCALL_ROTA_FORBIDDEN",
    "only members whose power level in the rota's room is at least its state_default (moderators, by default) may change the rota");
}
