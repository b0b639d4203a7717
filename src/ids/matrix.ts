import { Brand } from "./brand";

export type MatrixUserId = Brand<string, "MatrixUserId">;
export type RoomId = Brand<string, "RoomId">;
export type EventId = Brand<string, "EventId">;

const USER_ID = /^@[a-z0-9._=\-/+]+:[A-Za-z0-9.\-:[\]]+$/;

export function tryParseMatrixUserId(input: unknown): MatrixUserId | undefined {
  return typeof input === "string" && input.length <= 255 && USER_ID.test(input) ? input as MatrixUserId : undefined;
}

/**
 * Ids as the homeserver puts them in the events it pushes, checked at the
 * Matrix edge (src/matrix/events/). Looser than USER_ID: a sender or a
 * membership's state_key may be a historical user id (any printable ASCII
 * but ':' in the localpart, which Synapse still serves), and a room id of
 * room version 12 has no server part. Each is at most 255 characters.
 * The schemas in src/matrix/events/schemas.ts use these patterns.
 */
export const USER_ID_AS_SENT_PATTERN = "^@[\\x21-\\x39\\x3b-\\x7e]+:[A-Za-z0-9.\\-:\\[\\]]+$";
export const ROOM_ID_PATTERN = "^![\\x21-\\x7e]+$";
export const EVENT_ID_PATTERN = "^\\$[\\x21-\\x7e]+$";
const USER_ID_AS_SENT = new RegExp(USER_ID_AS_SENT_PATTERN);
const ROOM_ID = new RegExp(ROOM_ID_PATTERN);
const EVENT_ID = new RegExp(EVENT_ID_PATTERN);
const MAX_ID_LENGTH = 255;

export function tryParseUserIdAsSent(input: unknown): MatrixUserId | undefined {
  return typeof input === "string" && input.length <= MAX_ID_LENGTH && USER_ID_AS_SENT.test(input) ? input as MatrixUserId : undefined;
}

export function tryParseRoomId(input: unknown): RoomId | undefined {
  return typeof input === "string" && input.length <= MAX_ID_LENGTH && ROOM_ID.test(input) ? input as RoomId : undefined;
}

export function tryParseEventId(input: unknown): EventId | undefined {
  return typeof input === "string" && input.length <= MAX_ID_LENGTH && EVENT_ID.test(input) ? input as EventId : undefined;
}

export function localpartOfUser(userId: MatrixUserId): string {
  return userId.slice(1, userId.indexOf(":"));
}

export function serverOfUser(userId: MatrixUserId): string {
  return userId.slice(userId.indexOf(":") + 1);
}
