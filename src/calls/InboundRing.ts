import { logger } from "../log";
import { Address } from "../ids/address";
import { MatrixUserId } from "../ids/matrix";
import { SessionId, newPartyId, newSessionId, newSessionToken } from "../ids/session";
import { CallerIdentity } from "../model/callerIdentity";
import { Leg, LegId, newLeg, pairKey } from "../model/leg";
import { RotaCall } from "../model/rota";
import { InboundSession, RingMode, inboundSession, lifetime } from "../model/session";
import { Hop, SessionDescription, SetupRequest, SetupResponse } from "../protocol/types";
import { CallContext, displayNameFor, hashToken, setupFingerprint } from "./context";
import { Endings } from "./Endings";
import { lesserWins } from "./glare";
import { Ringing } from "./Ringing";
import { CallWatcher } from "./CallWatch";
import { RemoteMember } from "./MemberPlacement";

const log = logger("inbound");
const COULD_NOT_ATTEND: SetupResponse = { status: "could_not_attend" };

export interface RingRequest {
  request: SetupRequest;
  offer: SessionDescription;
  caller: Address | null;
  callee: Address;
  /** Our users to ring: one leg each. */
  targets: readonly MatrixUserId[];
  mode: RingMode;
  /** In sequence: each target's step (ascending); targets of one step ring
   *  at once. Default: each target its own step. */
  steps?: readonly number[];
  /** Told how the call rings (a rota's notices). */
  watch?: CallWatcher;
  /** A call to a rota: kept with the session, so its watcher can be rebuilt after a restart. */
  rota?: RotaCall;
  /** A rota's members on other nodes, rung by relay at their steps. */
  remote?: readonly RemoteMember[];
  /** The forwarding chain that proved the caller (extended toward those members). */
  chain?: readonly Hop[];
  neutralAt: number;
  proof: { identity: CallerIdentity; peerNode: string | null };
}

/**
 * An accepted inbound setup: its session and legs are stored, the caller
 * is answered, and the legs ring, all in one turn of the pair locks, so
 * nothing can slip in between.
 */
export class InboundRing {
  constructor(private readonly ctx: CallContext, private readonly ringing: Ringing, private readonly endings: Endings) {}

  ring(r: RingRequest): Promise<SetupResponse> {
    const virtualUserId = this.ctx.core.virtualUsers.userIdFor(r.caller);
    const keys = [...new Set(r.targets.map((t) => pairKey(t, virtualUserId)))];
    return new Promise<SetupResponse>((answer, fail) => {
      void this.ctx.locks.run(keys, async () => {
        let decided: { response: SetupResponse; ring?: { session: InboundSession; legs: Leg[] } };
        try {
          decided = await this.decide(r, virtualUserId);
        } catch (err) {
          return fail(err);
        }
        if (!decided.ring) return answer(decided.response);
        // The session is stored, so the caller may be answered; but the
        // invite goes out first. A warm leg reaches its PUT in a few
        // microtasks, and http.request writes it on the next tick, both
        // before setImmediate: the answer's serialising and writing no
        // longer delay the ring (docs/performance.md). A leg that has real
        // work first (first contact) yields at its first I/O, and the
        // caller is answered then.
        const ringing = this.ringing.ringLegs(decided.ring.session, decided.ring.legs, r.mode);
        setImmediate(() => answer(decided.response));
        await ringing;
      });
    });
  }

  /**
   * First contact: whether the callee exists, as far as the homeserver can
   * say by the neutral answer time. An unreachable or slow homeserver (the
   * callee is offline) is no different to the caller from an unknown callee.
   */
  private async confirmInTime(matrixUserId: MatrixUserId, neutralAt: number): Promise<boolean> {
    const { matrix, calls, clock } = this.ctx.core;
    if (matrix.knownAbsent(matrixUserId)) return false;
    const lookup = matrix.userExists(matrixUserId).catch((err: Error) => {
      log.warn("could not confirm the callee", { matrixUserId, error: err.message });
      return false;
    });
    if (calls.neutralAnswerMs <= 0) return lookup;
    const decided = new AbortController();
    const late = clock.sleepUntil(neutralAt, decided.signal).then(() => false);
    return Promise.race([lookup, late]).finally(() => decided.abort());
  }

  private async decide(r: RingRequest, virtualUserId: MatrixUserId): Promise<{ response: SetupResponse; ring?: { session: InboundSession; legs: Leg[] } }> {
    const { core, live } = this.ctx;
    const token = r.request.token ?? newSessionToken();
    const tokenHash = hashToken(token);
    const fingerprint = setupFingerprint(r.caller, r.callee);
    const rooms = await Promise.all(r.targets.map(async (userId, i) => {
      const dm = await core.matrix.findDm(userId, virtualUserId);
      return { userId, dm, step: r.steps?.[i] ?? i, ok: dm !== undefined || await this.confirmInTime(userId, r.neutralAt) };
    }));
    const reachable = rooms.filter((t) => t.ok);
    if (reachable.length === 0 && !r.remote?.length) return { response: COULD_NOT_ATTEND };
    const firstStep = Math.min(reachable[0]?.step ?? Infinity, ...(r.remote ?? []).map((m) => m.step));

    const now = core.now();
    const lifetimeMs = Math.min(r.request.lifetime ?? core.calls.defaultLifetimeMs, core.calls.maxLifetimeMs);
    const build = (id: SessionId): { session: InboundSession; legs: Leg[] } => {
      const session = inboundSession({
        id, virtualUserId, caller: r.caller, callee: r.callee, offer: r.offer, ...lifetime(now, lifetimeMs), via: r.request.via ?? [],
        ring: r.mode, identity: r.proof.identity,
        party: { tokenHash, delivery: r.request.notify ? { mode: "push", notifyUrl: r.request.notify, token, peerNode: r.proof.peerNode } : { mode: "pull" } },
        setup: { fingerprint, response: { status: "success", sessionId: id, token } }, ...(r.rota ? { rota: r.rota } : {}),
      });
      const legs = reachable.map((t, position) => newLeg({
        // A direct call's one leg keeps the session id as its Matrix call_id.
        callId: (position === 0 ? id : newSessionId()) as string as LegId, sessionId: id, position, step: t.step,
        state: r.mode.mode === "sequence" && t.step > firstStep ? "queued" : "preparing",
        stepEndsAt: r.mode.mode === "sequence" && t.step === firstStep ? now + r.mode.stepMs : null,
        matrixUserId: t.userId, virtualUserId, roomId: t.dm?.roomId ?? null, bridgePartyId: newPartyId(), matrixPartyId: null, matrixVersion: "1",
      }));
      return { session, legs };
    };

    let built = build((r.request.sessionId ?? newSessionId()) as SessionId);
    const lost = r.targets.length === 1 && reachable[0]?.dm ? await this.glareWithOwnCall(built.session, built.legs[0]!) : undefined;
    if (lost) return { response: lost };
    let inserted = await core.store.insertSession(built.session, built.legs);
    if (!inserted.inserted) {
      const previous = inserted.existing;
      // The same POST again: same answer, no second ring.
      if (previous.kind === "inbound" && previous.party.tokenHash === tokenHash && previous.setup.fingerprint === fingerprint && previous.setup.response) {
        return { response: previous.setup.response as SetupResponse };
      }
      // Someone else's session id: meet in another room instead.
      built = build(newSessionId());
      inserted = await core.store.insertSession(built.session, built.legs);
      if (!inserted.inserted) return { response: COULD_NOT_ATTEND };
    }
    const { session, legs } = built;
    live.remember(session, legs);
    if (r.watch) live.watchers.set(session.id, r.watch);
    if (r.remote?.length) this.ringing.remote.plan(session, r.remote, r.chain ?? []);
    live.noteUnansweredInbound(session.id, legs);
    this.armLifetime(session);
    return { response: session.setup.response as SetupResponse, ring: built };
  }

  armLifetime(session: InboundSession): void {
    const { live, core } = this.ctx;
    live.armLifetime(session.id, session.expiresAt - core.now(), () => {
      this.ctx.withSession(session.id, (current) => this.endings.expire(current))
        .catch((err: Error) => log.error("lifetime expiry failed", { callId: session.id, error: err.message }));
    });
  }

  /**
   * The Matrix user is calling this party too (WebCall/1 §3). While the
   * user's call is still being prepared (its node not yet asked), the
   * arriving call wins; once it is on its way, the lesser id wins. Returns the
   * setup answer when the user's call survives, else ends it and returns
   * undefined so the arriving call rings.
   */
  private async glareWithOwnCall(arriving: InboundSession, leg: Leg): Promise<SetupResponse | undefined> {
    const { core, live } = this.ctx;
    const own = live.pendingOwnCall(pairKey(leg.matrixUserId, leg.virtualUserId));
    if (!own) return undefined;
    const { session } = own;
    const onItsWay = session.state === "ringing" || session.party !== null;
    const push = session.party?.delivery.mode === "push" ? session.party.delivery : undefined;
    // With no node token to hand over (its other party pulls its events), the
    // user's call cannot be shared with this caller: the arriving call wins.
    if (!onItsWay || !push || lesserWins(session.id, arriving.id) === arriving.id) {
      await this.endings.end(session, { reason: "glare", matrix: { reject: true }, party: onItsWay ? "user_hangup" : undefined, replacedBy: arriving.id });
      return undefined;
    }
    // The user's call survives: the caller answers its offer instead, with the
    // token the caller's node already holds for it.
    const response: SetupResponse = { status: "success", sessionId: session.id, token: push.token, offer: session.offer };
    await core.store.insertSession({ ...arriving, state: "replaced", replacedBy: session.id, endReason: "glare", endedAt: core.now(),
      setup: { ...arriving.setup, response } }, []);
    log.info("glare: the Matrix user's own call survives", { lost: arriving.id, kept: session.id });
    return response;
  }

  /** A notice in the DM of a Matrix user and a WebCall party, creating the
   *  DM (and inviting the user) if they have none: e.g. a call forwarded
   *  before it ever rang. Failures are logged, never thrown. */
  async noticeInPairDm(matrixUserId: MatrixUserId, virtualUserId: MatrixUserId, caller: Address | null, text: string): Promise<void> {
    const { matrix } = this.ctx.core;
    try {
      await matrix.ensureVirtualUser(virtualUserId, displayNameFor(caller));
      const ensured = await matrix.ensureDm(matrixUserId, virtualUserId, false);
      if (!("room" in ensured)) return;
      await matrix.notice(virtualUserId, ensured.room.roomId, text);
    } catch (err) {
      log.warn("could not leave a notice", { matrixUserId, virtualUserId, error: (err as Error).message });
    }
  }
}
