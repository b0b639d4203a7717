import { MatrixUserId, RoomId } from "../ids/matrix";
import { SessionId } from "../ids/session";
import { UserRules } from "../model/rules";
import { Leg, LegId, LegPatch, LegState } from "../model/leg";
import { MemberOutSession, Session, SessionPatch, SessionState } from "../model/session";
import { CalendarStore } from "./CalendarStore";
import { RotaStore } from "./RotaStore";

/** A leg as it was before an ending changed it. */
export type EndedLeg = Leg & { was: LegState };

/** What an answer that won did: the session connected, its leg, and the
 *  other legs it ended as answered elsewhere. */
export interface AnswerWon {
  session: Session;
  leg: Leg;
  others: EndedLeg[];
}

export interface DmRoom {
  matrixUserId: MatrixUserId;
  virtualUserId: MatrixUserId;
  roomId: RoomId;
  /** Whether the Matrix user is joined (a call only rings in a joined room). */
  matrixUserJoined: boolean;
}

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

/** A session event queued for the WebCall party, numbered per session. */
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

  /** On-call rotas and the rooms they live in (RotaStore.ts). */
  readonly rotas: RotaStore;
  /** The secrets of rotas' calendar feeds (CalendarStore.ts). */
  readonly calendars: CalendarStore;

  /** Virtual users known to be registered with the homeserver. */
  isRegistered(userId: MatrixUserId): Promise<boolean>;
  markRegistered(userId: MatrixUserId): Promise<void>;

  getDmRoom(matrixUserId: MatrixUserId, virtualUserId: MatrixUserId): Promise<DmRoom | undefined>;
  getDmRoomById(roomId: RoomId): Promise<DmRoom | undefined>;
  /** Insert or replace the DM for this (Matrix user, virtual user) pair. */
  putDmRoom(room: DmRoom): Promise<void>;
  setMatrixUserJoined(roomId: RoomId, joined: boolean): Promise<void>;
  deleteDmRoom(roomId: RoomId): Promise<void>;

  /** Inserts the session with its legs, in one transaction; if the session
   *  id exists, inserts nothing and returns the existing session instead. */
  insertSession(session: Session, legs: readonly Leg[]): Promise<{ inserted: true } | { inserted: false; existing: Session }>;
  getSession(id: SessionId): Promise<Session | undefined>;
  /** The session and its legs in order, in one read. */
  getSessionWithLegs(id: SessionId): Promise<{ session: Session; legs: Leg[] } | undefined>;
  getLeg(callId: LegId): Promise<Leg | undefined>;
  /** A session's legs in the order they ring. */
  legsOf(sessionId: SessionId): Promise<Leg[]>;
  /** Applies `patch` only if the session is in one of `fromStates`; returns
   *  the updated session, or undefined when it was not in those states. */
  transitionSession(id: SessionId, fromStates: readonly SessionState[], patch: SessionPatch): Promise<Session | undefined>;
  /** The same for one leg. */
  transitionLeg(callId: LegId, fromStates: readonly LegState[], patch: LegPatch): Promise<Leg | undefined>;
  /**
   * First answer wins, in one statement: the session moves from one of
   * `from.session` with `patch.session`, and the leg from one of `from.leg`
   * with `patch.leg`, only if both are where they were expected; every
   * other live leg of the session ends as answered_elsewhere. undefined when
   * the answer lost (another leg answered first, the session ended).
   */
  answerLeg(callId: LegId, sessionId: SessionId, from: { session: readonly SessionState[]; leg: readonly LegState[] },
    patch: { session: SessionPatch; leg: LegPatch }): Promise<AnswerWon | undefined>;
  /** Ends the session (from one of `fromStates`) and every live leg of it
   *  with `legReason`, in one statement; returns the legs as they were. */
  endSession(id: SessionId, fromStates: readonly SessionState[], patch: SessionPatch, legReason: string):
    Promise<{ session: Session; legs: EndedLeg[] } | undefined>;
  /** Sessions not yet ended or replaced (resumed after a restart), oldest first. */
  liveSessions(): Promise<Session[]>;
  /** Legs not yet ended in a room, oldest session first (glare, hangup on leave). */
  liveLegsInRoom(roomId: RoomId): Promise<Leg[]>;
  /** Every attempt (member_out session, live or ended) of a rota call at its
   *  members on other nodes, oldest first: its plan is rebuilt after a restart. */
  memberAttempts(parent: SessionId): Promise<MemberOutSession[]>;

  /** Queue a session event for the WebCall party; returns its sequence number (1, 2, …). */
  appendPartyEvent(sessionId: SessionId, event: Record<string, unknown>): Promise<number>;
  partyEventsSince(sessionId: SessionId, since: number): Promise<QueuedEvent[]>;

  /** Records that an event id from the WebCall party was applied; false if it was already. */
  markPartyEventSeen(sessionId: SessionId, eventId: string): Promise<boolean>;
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
