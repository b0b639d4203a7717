import { logger } from "../log";
import { domainOf } from "../ids/address";
import { SessionId, newSessionToken } from "../ids/session";
import { RemoteMember } from "../model/rota";
import { InboundSession, MemberOutSession, Session, lifetime, memberOutSession, pushTarget } from "../model/session";
import { SESSION_MOVES } from "../model/transitions";
import { Hop, IceCandidate, SetupRequest, SetupResponse } from "../protocol/types";
import { extendChain } from "../signing/chain";
import { CallContext, hashToken } from "./context";
import { Endings } from "./Endings";

const log = logger("rota-remote");
const COULD_NOT_ATTEND: SetupResponse = { status: "could_not_attend" };
/** A WebCall session event holds 1-100 candidates (session-event.json). */
const MAX_EVENT_CANDIDATES = 100;

export type { RemoteMember } from "../model/rota";

/** One planned member's progress in a call. */
export interface Attempt extends RemoteMember {
  state: "queued" | "ringing" | "ended";
  /** Its member_out session's id, from the moment it rings. */
  id?: SessionId;
  /** The stored session once the member's node accepted the setup. */
  placed?: MemberOutSession;
  endReason: string | null;
  /** The node's candidates, held until this member's answer wins. */
  held: IceCandidate[];
  timer?: NodeJS.Timeout;
}

/** One rota call's members on other nodes. */
export interface Plan {
  attempts: Attempt[];
  /** The chain that proved the caller, extended with this node's hop for each member. */
  chain: readonly Hop[];
  /** The caller's candidates so far: a member's node gets them all once it accepts. */
  callerCandidates: IceCandidate[];
  /** The attempt whose answer connected the call. */
  answeredBy?: SessionId;
}

/**
 * Puts one rota member's attempt through (./RemoteMembers.ts): a
 * member_out session, then the setup POSTed to the member's node with this
 * node appended to `via` and its signed hop to `chain`, as a forward is.
 * The reason it could not ring, or undefined when it rings (or the call
 * moved on meanwhile and the attempt was ended).
 */
export async function placeAttempt(ctx: CallContext, endings: Endings, parent: InboundSession, plan: Plan, a: Attempt): Promise<string | undefined> {
  const { core } = ctx;
  const via = [...parent.via, core.self.domain];
  // WebCall/1 §4: a node seen twice, or too long a chain, ends the attempt.
  if (new Set(via).size !== via.length || via.length > core.maxForwardHops) return "could_not_attend";
  const endpoint = await core.party.endpointFor(domainOf(a.address)).catch(() => undefined);
  if (!endpoint) return "could_not_attend";
  const token = newSessionToken();
  const attempt = memberOutSession({
    id: a.id!, virtualUserId: parent.virtualUserId, caller: parent.caller, callee: a.address, offer: parent.offer,
    ...lifetime(core.now(), Math.max(1000, parent.expiresAt - core.now())), via: parent.via, parent: parent.id,
    party: { tokenHash: hashToken(token), delivery: { mode: "push", notifyUrl: endpoint, token, peerNode: domainOf(a.address) } },
  });
  await core.store.insertSession(attempt, []);
  // The call moved on while the node was looked up (answered, hung up, the step ran out).
  if (a.state !== "ringing") {
    await endings.end(attempt, { reason: a.endReason ?? "session_ended" });
    return undefined;
  }
  const request: SetupRequest = {
    calleeId: a.address, sessionId: attempt.id, token, offer: attempt.offer, lifetime: attempt.lifetimeMs,
    notify: core.self.publicUrl, via, chain: extendChain(core.keys, plan.chain, { from: parent.callee, to: a.address, reason: "on-call rota", ts: Date.now() }),
    ...(attempt.caller ? { callerId: attempt.caller } : {}),
  };
  let response: SetupResponse;
  try {
    response = await core.party.postSetup({ endpoint, destination: domainOf(a.address), request, deadline: Math.min(attempt.expiresAt, core.now() + core.forwardBudgetMs) });
  } catch (err) {
    log.info("a rota member's node could not be reached", { callId: parent.id, member: a.address, error: (err as Error).message });
    response = COULD_NOT_ATTEND;
  }
  return ctx.withSession(attempt.id, (current) => onSetupAnswer(ctx, endings, plan, a, current as MemberOutSession, token, response));
}

async function onSetupAnswer(ctx: CallContext, endings: Endings, plan: Plan, a: Attempt, attempt: MemberOutSession, token: string,
  response: SetupResponse): Promise<string | undefined> {
  const { core } = ctx;
  // A renamed session, or the member's own call coming back (glare there), cannot ring here.
  const usable = response.status === "success" && response.sessionId === attempt.id && !response.offer;
  if (!usable) {
    await endings.end(attempt, { reason: "not_put_through", party: response.status === "success" ? "user_hangup" : undefined });
    return "could_not_attend";
  }
  const given = response.token;
  const party = given === token ? undefined : { tokenHash: hashToken(given), delivery: { mode: "push" as const, ...pushTarget(attempt)!, token: given } };
  const placed = await core.store.transitionSession(attempt.id, SESSION_MOVES.placed.from, { state: SESSION_MOVES.placed.to, ...(party ? { party } : {}) });
  if (!placed) {
    const now = await core.store.getSession(attempt.id);
    if (now?.state === "connected") {
      // The member answered before their node's setup answer was handled.
      a.placed = ((party && await core.store.transitionSession(attempt.id, ["connected"], { party })) || now) as MemberOutSession;
      return undefined;
    }
    // Ended while its setup was on its way: the member's node rings on unless told.
    const reason = a.endReason === "invite_timeout" || a.endReason === "answered_elsewhere" ? a.endReason : "user_hangup";
    await core.party.send({ ...attempt, ...(party ? { party } : {}) }, { type: "hangup", reason });
    return undefined;
  }
  a.placed = placed as MemberOutSession;
  await sendCandidates(ctx, a.placed, [...plan.callerCandidates]);
  return undefined;
}

/** Candidates to a party, at most 100 to an event. */
export async function sendCandidates(ctx: CallContext, to: Session, candidates: IceCandidate[]): Promise<void> {
  for (let i = 0; i < candidates.length; i += MAX_EVENT_CANDIDATES) {
    await ctx.core.party.send(to, { type: "candidates", candidates: candidates.slice(i, i + MAX_EVENT_CANDIDATES) });
  }
}
