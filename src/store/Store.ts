import { Address } from "../ids/address";
import { MatrixUserId, RoomId } from "../ids/matrix";
import { SessionId } from "../ids/session";
import { UserRules } from "../model/rules";
import { CallerIdentity } from "../model/callerIdentity";
import { SessionDescription } from "../protocol/types";

/** inbound: a WebCall caller rings a Matrix user. outbound: a Matrix user
 *  calls a WebCall address (its invite to a virtual user). relay_in and
 *  relay_out: a call one of our users forwards to another node, relayed as
 *  two legs, one facing the caller and one facing the next node. */
export type CallDirection = "inbound" | "outbound" | "relay_in" | "relay_out";

/**
 * preparing     the bridge is getting the Matrix side ready (registration, DM)
 * awaiting_join first contact: the callee was invited to the DM; ring on join
 * ringing       the invite is out; waiting for an answer or reject
 * connected     an answer was selected
 * ended         over; `endReason` says how
 * replaced      lost glare; `replacedBy` names the call that survived
 */
export type CallState = "preparing" | "awaiting_join" | "ringing" | "connected" | "ended" | "replaced";

export const LIVE_STATES: readonly CallState[] = ["preparing", "awaiting_join", "ringing", "connected"];

export interface CallRecord {
  /** WebCall sessionId and Matrix call_id alike. */
  callId: SessionId;
  direction: CallDirection;
  state: CallState;
  /** sha256 (hex) of the session's bearer token; the token itself is never stored. */
  tokenHash: string;
  /** null = anonymous caller (inbound) */
  callerAddress: Address | null;
  calleeAddress: Address;
  /** The homeserver's own user on this call. */
  matrixUserId: MatrixUserId;
  /** The virtual user standing for the WebCall party. */
  virtualUserId: MatrixUserId;
  roomId: RoomId | null;
  /** The party_id the bridge uses as the virtual user. */
  bridgePartyId: string;
  /** The Matrix user's party: the selected answering device (inbound) or the
   *  inviting device (outbound). null until known, or for version 0. */
  matrixPartyId: string | null;
  /** The Matrix-side VoIP version of the user's events: "0" or "1". */
  matrixVersion: string;
  offer: SessionDescription;
  answer: SessionDescription | null;
  lifetimeMs: number;
  /** ms since the epoch */
  createdAt: number;
  expiresAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  /** Where session events for the WebCall party are pushed, if anywhere. */
  notifyUrl: string | null;
  /** The session token, kept only when there is a notifyUrl: pushes to the
   *  party's node must present it. Authorisation uses tokenHash. */
  notifyToken: string | null;
  via: string[];
  /** sha256 of the canonical setup request, so a retried POST is recognised. */
  setupFingerprint: string | null;
  /** The 200 body sent for the setup, replayed verbatim on retry. */
  setupResponse: Record<string, unknown> | null;
  replacedBy: SessionId | null;
  endReason: string | null;
  /** The other leg of a relayed (forwarded) call; null otherwise. */
  relayPeer: SessionId | null;
  /** The node on the other side: the one that signed an inbound setup, or the
   *  one we put the call through to. Pushes to it are signed for it. */
  peerNode: string | null;
  /** What signatures proved about the caller of an inbound call; null when
   *  nothing was checked (calls this node places). */
  callerIdentity: CallerIdentity | null;
}

export type CallPatch = Partial<Omit<CallRecord, "callId" | "direction" | "createdAt">>;

export interface DmRoom {
  matrixUserId: MatrixUserId;
  virtualUserId: MatrixUserId;
  roomId: RoomId;
  /** Whether the Matrix user is joined (a call only rings in a joined room). */
  matrixUserJoined: boolean;
}

/** A session event queued for the WebCall party, numbered per session. */
/** A room where a user talks to the bridge bot (its command DM). */
export interface BotRoom {
  roomId: RoomId;
  userId: MatrixUserId;
}

/** A provisioning API session. The bearer token itself is never stored. */
export interface ProvisioningSession {
  /** sha256 (hex) of the session token. */
  tokenHash: string;
  userId: MatrixUserId;
  /** ms since the epoch */
  expiresAt: number;
}

/** One of this node's signing keys (src/signing/NodeKeys.ts). */
export interface SigningKeyRecord {
  keyId: string;
  /** The 32-byte Ed25519 seed, unpadded base64: the private key. */
  seed: string;
  /** ms since the epoch */
  createdAt: number;
  /** When it was retired; null for the key in use. */
  expiredAt: number | null;
}

export interface QueuedEvent {
  seq: number;
  event: Record<string, unknown>;
}

/**
 * Everything the bridge must not lose across a crash or restart. One
 * implementation over SQL serves both PostgreSQL and the embedded PGlite.
 * Every state change is a conditional update, so two bridge instances, a
 * retried HTTP request or a re-pushed Matrix event cannot apply the
 * same transition twice.
 */
export interface Store {
  close(): Promise<void>;

  /** Virtual users known to be registered with the homeserver. */
  isRegistered(userId: MatrixUserId): Promise<boolean>;
  markRegistered(userId: MatrixUserId): Promise<void>;

  getDmRoom(matrixUserId: MatrixUserId, virtualUserId: MatrixUserId): Promise<DmRoom | undefined>;
  getDmRoomById(roomId: RoomId): Promise<DmRoom | undefined>;
  /** Insert or replace the DM for this (Matrix user, virtual user) pair. */
  putDmRoom(room: DmRoom): Promise<void>;
  setMatrixUserJoined(roomId: RoomId, joined: boolean): Promise<void>;
  deleteDmRoom(roomId: RoomId): Promise<void>;

  /** Inserts the call; if the callId exists, returns the existing record instead. */
  insertCall(call: CallRecord): Promise<{ inserted: true } | { inserted: false; existing: CallRecord }>;
  getCall(callId: SessionId): Promise<CallRecord | undefined>;
  /** Applies `patch` only if the call is in one of `fromStates`; returns the
   *  updated record, or undefined when the call was not in those states. */
  transitionCall(callId: SessionId, fromStates: readonly CallState[], patch: CallPatch): Promise<CallRecord | undefined>;
  /** Calls not yet ended or replaced (resumed after a restart). */
  liveCalls(): Promise<CallRecord[]>;
  /** Live calls in a room, oldest first (glare, hangup on leave). */
  liveCallsInRoom(roomId: RoomId): Promise<CallRecord[]>;

  /** Queue a session event for the WebCall party; returns its sequence number (1, 2, …). */
  appendPartyEvent(callId: SessionId, event: Record<string, unknown>): Promise<number>;
  partyEventsSince(callId: SessionId, since: number): Promise<QueuedEvent[]>;

  /** Records that an event id from the WebCall party was applied; false if it was already. */
  markPartyEventSeen(callId: SessionId, eventId: string): Promise<boolean>;
  /** Records that pushed Matrix events were handled; the ids not recorded before. */
  markEventsHandled(eventIds: readonly string[]): Promise<string[]>;
  /** The most recently handled event ids, newest first (loaded at start-up). */
  recentHandledEvents(limit: number): Promise<string[]>;
  /** Forgets all but the `keep` most recently handled event ids. */
  pruneHandledEvents(keep: number): Promise<void>;

  /** A user's rules, or undefined for a user who never saved any. */
  getUserRules(userId: MatrixUserId): Promise<UserRules | undefined>;
  /** Compare-and-set: saves `next` (its `version` is ignored) as version
   *  expectedVersion + 1, only if the stored version is still expectedVersion
   *  (0 = never saved). false = someone else saved first; re-read and retry. */
  saveUserRules(next: UserRules, expectedVersion: number): Promise<boolean>;

  /** Insert or replace the user a bot room belongs to. */
  putBotRoom(roomId: RoomId, userId: MatrixUserId): Promise<void>;
  getBotRoom(roomId: RoomId): Promise<BotRoom | undefined>;
  deleteBotRoom(roomId: RoomId): Promise<void>;

  createProvisioningSession(session: ProvisioningSession): Promise<void>;
  /** The session, expired or not (the caller checks expiresAt). */
  getProvisioningSession(tokenHash: string): Promise<ProvisioningSession | undefined>;
  deleteProvisioningSession(tokenHash: string): Promise<void>;
  /** Ends every session of the user (log out everywhere). */
  deleteProvisioningSessions(userId: MatrixUserId): Promise<void>;

  /** This node's signing keys, oldest first. */
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  insertSigningKey(key: SigningKeyRecord): Promise<void>;
  retireSigningKey(keyId: string, expiredAt: number): Promise<void>;
  /** Forgets keys retired before `before` (ms since the epoch). */
  deleteSigningKeysRetiredBefore(before: number): Promise<void>;
}
