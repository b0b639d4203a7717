import { Address } from "../ids/address";
import { MatrixUserId } from "../ids/matrix";
import { SessionId } from "../ids/session";
import { SessionDescription } from "../protocol/types";
import { CallerIdentity } from "./callerIdentity";
import { RotaCall } from "./rota";

/**
 * A session is the WebCall side of one call attempt: what the other party
 * knows (its id and token), who calls whom, its lifetime and how its events
 * reach the party. The Matrix calls that belong to it are its legs
 * (./leg.ts). Five kinds, each a type of its own: a field a kind does not
 * have does not exist on it.
 *
 *   inbound    a WebCall caller rings one or more of our Matrix users
 *   outbound   one of our Matrix users calls a WebCall address
 *   relay_in   a call one of our users forwards to another node: the half
 *              facing the caller
 *   relay_out  the same call's half facing the next node
 *   member_out a call to a rota's member on another node: one ringing
 *              attempt of the rota call's inbound session (its parent)
 */
export type SessionKind = Session["kind"];

/** See docs/call-states.md. */
export type SessionState = "preparing" | "ringing" | "connected" | "ended" | "replaced";

/** How session events reach the party: it pulls them, or they are pushed to
 *  its node's notify URL with the session token. */
export type Delivery =
  | { mode: "pull" }
  | { mode: "push"; notifyUrl: string; token: string; peerNode: string | null };

/** The party's hold on a session: the hash of the token that opens it (the
 *  token itself is kept only when events are pushed) and how events reach it. */
export interface PartyLink {
  tokenHash: string;
  delivery: Delivery;
}

/** The setup that opened a session from the caller's side, so a retried POST
 *  gets the same answer (null until there is one to give). */
export interface SetupRecord {
  fingerprint: string;
  response: Record<string, unknown> | null;
}

interface SessionBase {
  id: SessionId;
  state: SessionState;
  /** The virtual user standing for the WebCall party (the pair mutex's second half). */
  virtualUserId: MatrixUserId;
  offer: SessionDescription;
  answer: SessionDescription | null;
  lifetimeMs: number;
  /** ms since the epoch */
  createdAt: number;
  expiresAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  endReason: string | null;
  /** Lost glare to this session. */
  replacedBy: SessionId | null;
  /** The nodes the setup passed through (WebCall/1 §4). */
  via: string[];
}

/** How an inbound session's legs ring: all at once, or each for `stepMs`
 *  then the next (declined or timed out), in `position` order. */
export type RingMode = { mode: "all" } | { mode: "sequence"; stepMs: number };

export interface InboundSession extends SessionBase {
  kind: "inbound";
  ring: RingMode;
  /** null: an anonymous caller */
  caller: Address | null;
  callee: Address;
  identity: CallerIdentity;
  party: PartyLink;
  setup: SetupRecord;
  /** Set when the call is to a rota (its room is told how it rings). */
  rota?: RotaCall;
}

export interface OutboundSession extends SessionBase {
  kind: "outbound";
  caller: Address;
  callee: Address;
  /** The callee's node, once found: null while the call is being placed. */
  party: PartyLink | null;
}

export interface RelayInSession extends SessionBase {
  kind: "relay_in";
  caller: Address | null;
  /** Our user, who forwards. */
  callee: Address;
  forwardedBy: MatrixUserId;
  identity: CallerIdentity;
  party: PartyLink;
  setup: SetupRecord;
  /** The relay_out half. */
  peer: SessionId;
}

export interface RelayOutSession extends SessionBase {
  kind: "relay_out";
  caller: Address | null;
  /** Where the call is forwarded to, on another node. */
  callee: Address;
  forwardedBy: MatrixUserId;
  party: PartyLink;
  /** The relay_in half. */
  peer: SessionId;
}

/** A rota call's attempt at a member on another node (docs/rotas.md,
 *  "Members on other nodes"): the setup this node POSTs to the member's
 *  node, linked to the rota call's inbound session. The caller keeps that
 *  session through every step; this one only faces the member's node. */
export interface MemberOutSession extends SessionBase {
  kind: "member_out";
  caller: Address | null;
  /** The rota member: an address on another node. */
  callee: Address;
  party: PartyLink;
  /** The rota call's inbound session. */
  parent: SessionId;
}

export type Session = InboundSession | OutboundSession | RelayInSession | RelayOutSession | MemberOutSession;
export type RelaySession = RelayInSession | RelayOutSession;

export const LIVE_SESSION_STATES: readonly SessionState[] = ["preparing", "ringing", "connected"];

export function isLive(session: Pick<Session, "state">): boolean {
  return LIVE_SESSION_STATES.includes(session.state);
}

export function isRelay(session: Session): session is RelaySession {
  return session.kind === "relay_in" || session.kind === "relay_out";
}

/** Where the party's events are pushed, if they are. */
export function pushTarget(session: Session): { notifyUrl: string; token: string; peerNode: string | null } | undefined {
  const delivery = session.party?.delivery;
  return delivery?.mode === "push" ? delivery : undefined;
}

/** The token hash that opens the session, if the party has one yet. */
export function tokenHashOf(session: Session): string | undefined {
  return session.party?.tokenHash;
}

/** The Matrix user's view of the WebCall party (notices). */
export function partyLabel(session: Session): string {
  const who = session.kind === "outbound" ? session.callee : session.caller;
  return who ?? "An anonymous caller";
}

type Times = Pick<SessionBase, "lifetimeMs" | "createdAt" | "expiresAt">;
type Fresh = "state" | "answer" | "answeredAt" | "endedAt" | "endReason" | "replacedBy";
const FRESH = { answer: null, answeredAt: null, endedAt: null, endReason: null, replacedBy: null } as const;

/** Lifetime fields of a session created now, rung for `lifetimeMs`. */
export function lifetime(now: number, lifetimeMs: number): Times {
  return { lifetimeMs, createdAt: now, expiresAt: now + lifetimeMs };
}

/** A WebCall caller's setup, accepted: it rings from the start (its legs
 *  are prepared under it). */
export function inboundSession(s: Omit<InboundSession, "kind" | Fresh>): InboundSession {
  return { kind: "inbound", state: "ringing", ...FRESH, ...s };
}

/** A Matrix user's invite to a WebCall address, before it is put through. */
export function outboundSession(s: Omit<OutboundSession, "kind" | Fresh>): OutboundSession {
  return { kind: "outbound", state: "preparing", ...FRESH, ...s };
}

export function relayInSession(s: Omit<RelayInSession, "kind" | Fresh>): RelayInSession {
  return { kind: "relay_in", state: "preparing", ...FRESH, ...s };
}

export function relayOutSession(s: Omit<RelayOutSession, "kind" | Fresh>): RelayOutSession {
  return { kind: "relay_out", state: "preparing", ...FRESH, ...s };
}

/** A rota call's attempt at a remote member, about to be put through. */
export function memberOutSession(s: Omit<MemberOutSession, "kind" | Fresh>): MemberOutSession {
  return { kind: "member_out", state: "preparing", ...FRESH, ...s };
}

/** What may change on a session once stored; kind, id and times never do. */
export interface SessionPatch {
  state?: SessionState;
  answer?: SessionDescription;
  answeredAt?: number;
  endedAt?: number;
  endReason?: string;
  replacedBy?: SessionId | null;
  party?: PartyLink;
  /** inbound and relay_in: the answer a retried setup gets. */
  setupResponse?: Record<string, unknown>;
}
