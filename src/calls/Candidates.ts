import { logger } from "../log";
import * as ev from "../matrix/callEvents";
import { Leg } from "../model/leg";
import { Session } from "../model/session";
import { IceCandidate } from "../protocol/types";
import { splitByBytes } from "../util/eventSize";
import { CandidateBatcher } from "./CandidateBatcher";
import { CallContext } from "./context";

const log = logger("calls");
/** A WebCall session event holds 1-100 candidates (session-event.json), though
 *  one Matrix event may bring hundreds: more would fail every pull's schema check. */
const MAX_PARTY_EVENT_CANDIDATES = 100;

/**
 * Candidates both ways, in batches, in order: toward each ringing (or the
 * connected) leg, and toward the party. The party's candidates are held
 * while a leg may still ring later (each leg's invite needs all of them);
 * a ringing device's are held until an answer is selected.
 */
export class Candidates {
  private readonly toMatrix: CandidateBatcher;
  private readonly toParty: CandidateBatcher;

  constructor(private readonly ctx: CallContext) {
    const { live, core } = ctx;
    const batchMs = core.calls.candidateBatchMs;
    this.toMatrix = new CandidateBatcher(batchMs, (id, c) => this.flushToMatrix(id, c), (id, c) => {
      const leg = live.leg(id);
      return leg ? ev.candidateRuns(leg.callId, leg.bridgePartyId, c) : [];
    });
    this.toParty = new CandidateBatcher(batchMs, (id, c) => this.flushToParty(id, c),
      (_id, c) => splitByBytes(c, Infinity, () => 0, MAX_PARTY_EVENT_CANDIDATES));
    live.onForget.push((id, legs) => {
      this.toParty.drop(id);
      for (const leg of legs) this.toMatrix.drop(leg.callId);
    });
  }

  /** From the WebCall party toward the Matrix side. */
  fromParty(session: Session, legs: readonly Leg[], candidates: IceCandidate[]): void {
    const { live } = this.ctx;
    live.remember(session, legs);
    const connected = legs.find((l) => l.state === "connected");
    const targets = connected ? [connected] : legs.filter((l) => l.state === "ringing" || (session.kind === "outbound" && l.state !== "ended"));
    for (const leg of targets) {
      live.rememberLeg(leg);
      this.toMatrix.add(leg.callId, candidates);
    }
    if (!connected && legs.some((l) => l.state === "queued" || l.state === "preparing" || l.state === "awaiting_join")) {
      const held = live.heldPartyCandidates.get(session.id) ?? [];
      held.push(...candidates);
      live.heldPartyCandidates.set(session.id, held);
    }
  }

  /** A leg now rings: it gets the party's candidates so far. */
  legRinging(session: Session, leg: Leg): void {
    const { live } = this.ctx;
    live.remember(session);
    live.rememberLeg(leg);
    const held = live.heldPartyCandidates.get(session.id);
    if (held?.length) this.toMatrix.add(leg.callId, held);
  }

  /** From one of a leg's devices toward the party. */
  fromDevice(session: Session, leg: Leg, partyId: string | null, candidates: IceCandidate[]): void {
    const { live } = this.ctx;
    if (session.kind === "outbound" || leg.state === "connected") {
      if (leg.matrixPartyId !== null && partyId !== leg.matrixPartyId) return;
      live.remember(session);
      this.toParty.add(session.id, candidates);
      return;
    }
    const byDevice = live.deviceCandidates.get(leg.callId) ?? new Map<string, IceCandidate[]>();
    const list = byDevice.get(partyId ?? "") ?? [];
    list.push(...candidates);
    byDevice.set(partyId ?? "", list);
    live.deviceCandidates.set(leg.callId, byDevice);
  }

  /** After an answer is selected: pass on that device's held candidates, drop the others'. */
  releaseDevice(session: Session, leg: Leg): void {
    const { live } = this.ctx;
    const held = live.deviceCandidates.get(leg.callId)?.get(leg.matrixPartyId ?? "");
    live.deviceCandidates.delete(leg.callId);
    if (held?.length) {
      live.remember(session);
      this.toParty.add(session.id, held);
    }
  }

  private async flushToMatrix(legId: string, candidates: IceCandidate[]): Promise<void> {
    const leg = this.ctx.live.leg(legId);
    if (!leg?.roomId) return;
    await this.ctx.core.matrix.sendCallEvent(leg.virtualUserId, leg.roomId, ev.CALL_CANDIDATES,
      ev.candidatesContent(leg.callId, leg.bridgePartyId, candidates))
      .catch((err: Error) => log.warn("could not send candidates", { callId: legId, error: err.message }));
  }

  private async flushToParty(sessionId: string, candidates: IceCandidate[]): Promise<void> {
    const session = this.ctx.live.session(sessionId);
    if (!session) return;
    await this.ctx.core.party.send(session, { type: "candidates", candidates })
      .catch((err: Error) => log.warn("could not queue candidates", { callId: sessionId, error: err.message }));
  }

  close(): void {
    this.toMatrix.close();
    this.toParty.close();
  }
}
