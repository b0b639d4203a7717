import { Brand } from "./brand";

export type MatrixUserId = Brand<string, "MatrixUserId">;
export type RoomId = Brand<string, "RoomId">;
export type EventId = Brand<string, "EventId">;

const USER_ID = /^@[a-z0-9._=\-/+]+:[A-Za-z0-9.\-:[\]]+$/;

export function tryParseMatrixUserId(input: unknown): MatrixUserId | undefined {
  return typeof input === "string" && input.length <= 255 && USER_ID.test(input) ? input as MatrixUserId : undefined;
}

export function localpartOfUser(userId: MatrixUserId): string {
  return userId.slice(1, userId.indexOf(":"));
}

export function serverOfUser(userId: MatrixUserId): string {
  return userId.slice(userId.indexOf(":") + 1);
}
