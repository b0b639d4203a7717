import { LegState } from "./leg";
import { SessionState } from "./session";

/**
 * The call's states and transitions, as one table: docs/call-states.md
 * holds the same rows (test/calls/callStatesDoc.test.ts compares them).
 * The call core asks this table which states an event may move a session
 * or leg from, and to which state: every store transition is conditional on
 * those `from` states, so an event that does not apply changes nothing.
 */
export type SessionEvent = "placed" | "answer" | "hangup" | "expire" | "unanswered" | "glare_lost";
export type LegEvent = "ring" | "need_join" | "invite" | "answer" | "decline" | "step_timeout" | "answered_elsewhere" | "session_ended";

export interface SessionRow { machine: "session"; state: SessionState; event: SessionEvent; next: SessionState; actions: string }
export interface LegRow { machine: "leg"; state: LegState; event: LegEvent; next: LegState; actions: string }
export type TransitionRow = SessionRow | LegRow;

const s = (state: SessionState, event: SessionEvent, next: SessionState, actions: string): SessionRow =>
  ({ machine: "session", state, event, next, actions });
const l = (state: LegState, event: LegEvent, next: LegState, actions: string): LegRow =>
  ({ machine: "leg", state, event, next, actions });

const ANSWER = "first answer wins: m.call.select_answer on the leg, every other leg answered_elsewhere, answer to the party, lifetime disarmed; "
  + "member_out: the rota call's session answers the same way (its legs answered_elsewhere, the member's candidates to the caller)";
const HANGUP = "every live leg session_ended; the side that did not hang up is told (m.call.hangup or m.call.reject, or a hangup session event); DM notice; "
  + "an inbound session's member_out attempts end with it, their nodes told";
const ELSEWHERE = "m.call.hangup if its invite is out; DM notice: answered elsewhere";
const ENDED = "the session's ending on this leg: m.call.hangup or m.call.reject if its invite is out; DM notice as the ending says";
const STEP = "m.call.hangup invite_timeout; DM notice: missed; the next queued leg rings, else the session is unanswered";

export const TRANSITIONS: readonly TransitionRow[] = [
  s("preparing", "placed", "ringing", "outbound, relay and member_out: the next node accepted the setup; its token kept if it gave another; member_out: the caller's candidates so far to it"),
  s("preparing", "answer", "connected", "outbound: the node answered before its setup answer arrived; " + ANSWER),
  s("ringing", "answer", "connected", ANSWER),
  s("preparing", "hangup", "ended", HANGUP),
  s("ringing", "hangup", "ended", HANGUP),
  s("connected", "hangup", "ended", HANGUP),
  s("preparing", "expire", "ended", "lifetime passed: every live leg session_ended (m.call.hangup invite_timeout, DM notice: missed); party: could_not_attend"),
  s("ringing", "expire", "ended", "lifetime passed: every live leg session_ended (m.call.hangup invite_timeout, DM notice: missed); party: could_not_attend"),
  s("ringing", "unanswered", "ended", "the last leg ended unanswered (declined, timed out): party: could_not_attend"),
  s("preparing", "glare_lost", "replaced", "the survivor named in replaced_by; the party is sent replace, or hangup"),
  s("ringing", "glare_lost", "replaced", "the survivor named in replaced_by; the party is sent replace, or hangup"),
  l("queued", "ring", "preparing", "sequence: this leg's turn; its step timer is armed"),
  l("preparing", "need_join", "awaiting_join", "first contact: the callee is invited to the DM; notice: who is calling, join to answer"),
  l("preparing", "invite", "ringing", "m.call.invite; the party's candidates so far; notice: who is calling"),
  l("awaiting_join", "invite", "ringing", "the callee joined: m.call.invite; the party's candidates so far"),
  l("ringing", "answer", "connected", "session answer"),
  l("ringing", "decline", "ended", "m.call.select_answer naming the rejecting device (v1); DM notice: declined; the next queued leg rings, else the session is unanswered"),
  l("preparing", "step_timeout", "ended", STEP),
  l("awaiting_join", "step_timeout", "ended", STEP),
  l("ringing", "step_timeout", "ended", STEP),
  l("queued", "answered_elsewhere", "ended", "nothing was sent: nothing to stop"),
  l("preparing", "answered_elsewhere", "ended", ELSEWHERE),
  l("awaiting_join", "answered_elsewhere", "ended", ELSEWHERE),
  l("ringing", "answered_elsewhere", "ended", ELSEWHERE),
  l("queued", "session_ended", "ended", "nothing was sent: nothing to stop"),
  l("preparing", "session_ended", "ended", ENDED),
  l("awaiting_join", "session_ended", "ended", ENDED),
  l("ringing", "session_ended", "ended", ENDED),
  l("connected", "session_ended", "ended", ENDED),
];

function rowsOf<R extends TransitionRow>(machine: R["machine"], event: R["event"]): R[] {
  const rows = TRANSITIONS.filter((r) => r.machine === machine && r.event === event) as R[];
  if (rows.length === 0) throw new Error(`no transition for ${machine} event ${event}`);
  return rows;
}

/** One event, its from-states and the one state it leads to. */
export interface Move<S> { from: readonly S[]; to: S }

function move<R extends TransitionRow>(machine: R["machine"], event: R["event"]): Move<R["state"]> {
  const rows = rowsOf<R>(machine, event);
  const to = rows[0]!.next;
  if (rows.some((r) => r.next !== to)) throw new Error(`${machine} event ${event} leads to more than one state`);
  return { from: Object.freeze(rows.map((r) => r.state)), to };
}

const SESSION_EVENTS: readonly SessionEvent[] = ["placed", "answer", "hangup", "expire", "unanswered", "glare_lost"];
const LEG_EVENTS: readonly LegEvent[] = ["ring", "need_join", "invite", "answer", "decline", "step_timeout", "answered_elsewhere", "session_ended"];

/** Each session event's from-states and next state, computed once from the table. */
export const SESSION_MOVES = Object.fromEntries(SESSION_EVENTS.map((e) => [e, move<SessionRow>("session", e)])) as
  Record<SessionEvent, Move<SessionState>>;
export const LEG_MOVES = Object.fromEntries(LEG_EVENTS.map((e) => [e, move<LegRow>("leg", e)])) as
  Record<LegEvent, Move<LegState>>;

/** Whether the table lets `event` apply in `state`. */
export function sessionMay(state: SessionState, event: SessionEvent): boolean {
  return SESSION_MOVES[event].from.includes(state);
}

export function legMay(state: LegState, event: LegEvent): boolean {
  return LEG_MOVES[event].from.includes(state);
}
