import { MatrixUserId } from "../ids/matrix";

/**
 * What a rota room's state says about its members: who may change the rota
 * (power level at least the room's `state_default`, the level the room asks
 * of anyone changing its settings) and who is joined, in join order. Pure:
 * read from the state events `GET /rooms/{id}/state` returns.
 */

type StateEvent = Record<string, unknown>;

function find(state: readonly StateEvent[], type: string): StateEvent | undefined {
  return state.find((e) => e.type === type && e.state_key === "");
}

function contentOf(event: StateEvent | undefined): Record<string, unknown> {
  const content = event?.content;
  return typeof content === "object" && content !== null ? content as Record<string, unknown> : {};
}

function level(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

/** Room versions whose creators outrank everyone and are not in the power
 *  levels' `users` (MSC4289: room version 12 and the later ones). */
function creatorsOutrank(roomVersion: string): boolean {
  return roomVersion === "org.matrix.hydra.11" || (/^\d+$/.test(roomVersion) && Number(roomVersion) >= 12);
}

export interface RoomPower {
  /** The user's power level (Infinity for a creator in room version 12 and later). */
  of(userId: MatrixUserId): number;
  /** The level needed to change the room's state. */
  stateDefault: number;
}

export function roomPower(state: readonly StateEvent[]): RoomPower {
  const create = find(state, "m.room.create");
  const createContent = contentOf(create);
  const roomVersion = typeof createContent.room_version === "string" ? createContent.room_version : "1";
  const creators = new Set<string>();
  if (typeof create?.sender === "string") creators.add(create.sender);
  if (typeof createContent.creator === "string") creators.add(createContent.creator);
  if (creatorsOutrank(roomVersion) && Array.isArray(createContent.additional_creators)) {
    for (const c of createContent.additional_creators) if (typeof c === "string") creators.add(c);
  }
  const levelsEvent = find(state, "m.room.power_levels");
  const levels = contentOf(levelsEvent);
  const users = typeof levels.users === "object" && levels.users !== null ? levels.users as Record<string, unknown> : {};
  return {
    of(userId) {
      if (creatorsOutrank(roomVersion) && creators.has(userId)) return Infinity;
      // No power levels at all: the creator has 100, everyone else 0 (the spec's defaults).
      if (!levelsEvent) return creators.has(userId) ? 100 : 0;
      return level(users[userId], level(levels.users_default, 0));
    },
    stateDefault: levelsEvent ? level(levels.state_default, 50) : 0,
  };
}

// The members in join order are read by the call core too (calls to a rota), so they live in src/matrix/.
export { joinedInJoinOrder } from "../matrix/roomMembers";
