import { randomBytes } from "node:crypto";
import { Brand } from "./brand";

/** A WebCall session id; it is also the Matrix `call_id` of the call. */
export type SessionId = Brand<string, "SessionId">;
/** The bearer secret that authorises messages about one session. */
export type SessionToken = Brand<string, "SessionToken">;

const SESSION_ID = /^[A-Za-z0-9._~-]{16,255}$/;

export function tryParseSessionId(input: unknown): SessionId | undefined {
  return typeof input === "string" && SESSION_ID.test(input) ? input as SessionId : undefined;
}

/** 144 bits, URL-safe; also a valid Matrix call_id. */
export function newSessionId(): SessionId {
  return randomBytes(18).toString("base64url") as SessionId;
}

/** 256 bits of randomness (the protocol asks for at least 128). */
export function newSessionToken(): SessionToken {
  return randomBytes(32).toString("base64url") as SessionToken;
}

/** A Matrix VoIP party id for one side of one call. */
export function newPartyId(): string {
  return randomBytes(9).toString("base64url");
}
