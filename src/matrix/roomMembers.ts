import { MatrixUserId, tryParseUserIdAsSent } from "../ids/matrix";

/** A room's joined members as its state says (`GET /rooms/{id}/state`): the
 *  rotation order of a rota without its own (the bot's replies and the call core). */

type StateEvent = Record<string, unknown>;

function contentOf(event: StateEvent): Record<string, unknown> {
  const content = event.content;
  return typeof content === "object" && content !== null ? content as Record<string, unknown> : {};
}

/** The joined members, in the order they joined (their join event's time),
 *  leaving out those `skip` says (the bridge's own users). */
export function joinedInJoinOrder(state: readonly StateEvent[], skip: (userId: MatrixUserId) => boolean): MatrixUserId[] {
  return state
    .filter((e) => e.type === "m.room.member" && contentOf(e).membership === "join")
    .map((e) => ({ userId: tryParseUserIdAsSent(e.state_key), at: typeof e.origin_server_ts === "number" ? e.origin_server_ts : 0 }))
    .filter((m): m is { userId: MatrixUserId; at: number } => m.userId !== undefined && !skip(m.userId))
    .sort((a, b) => a.at - b.at || (a.userId < b.userId ? -1 : 1))
    .map((m) => m.userId);
}
