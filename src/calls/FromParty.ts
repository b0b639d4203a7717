import { timingSafeEqual } from "node:crypto";
import { DomainError } from "../errors/DomainError";
import * as ev from "../matrix/callEvents";
import { CallRecord } from "../store/Store";
import { SessionEvent } from "../protocol/types";
import { CallActions, hashToken } from "./CallActions";
import { CallDeps } from "./CallDeps";
import { OutboundPlacement } from "./OutboundPlacement";
import { Relay } from "./Relay";

/**
 * Session events from the WebCall party: its candidates, its answer (when it
 * is the one being called, or answers the Matrix user's offer after glare),
 * renegotiation and hangup. Each event id is applied once.
 */
export class FromParty {
  constructor(private readonly deps: CallDeps, private readonly actions: CallActions, private readonly placement: OutboundPlacement,
    private readonly relay: Relay) {}

  /** The call the token opens, or the protocol's 404/401. */
  async authorise(sessionId: string, token: string): Promise<CallRecord> {
    const call = await this.deps.store.getCall(sessionId as CallRecord["callId"]);
    if (!call) throw new DomainError("WEBCALL_UNKNOWN_SESSION", "No such session");
    if (!call.tokenHash || !sameHash(call.tokenHash, hashToken(token))) {
      throw new DomainError("WEBCALL_BAD_TOKEN", "The token does not open this session");
    }
    return call;
  }

  async deliver(sessionId: string, token: string, events: SessionEvent[]): Promise<void> {
    const found = await this.authorise(sessionId, token);
    // The called side answers and replaces; on inbound calls (and toward a
    // caller whose call we forward) that is us.
    const bad = (found.direction === "inbound" || found.direction === "relay_in") && events.find((e) => e.type === "replace" || e.type === "answer");
    if (bad) {
      throw new DomainError("WEBCALL_BAD_EVENT", bad.type === "replace"
        ? "replace is sent by the called side, not the caller"
        : "the caller cannot answer its own call");
    }
    await this.actions.withCall(found, async (call) => {
      if (call.state === "ended" || call.state === "replaced") {
        throw new DomainError("WEBCALL_SESSION_OVER", "This session is over");
      }
      for (const event of events) {
        if (!(await this.deps.store.markPartyEventSeen(call.callId, event.id))) continue;
        call = (await this.apply(call, event)) ?? call;
        if (call.state === "ended" || call.state === "replaced") return;
      }
    });
  }

  private async apply(call: CallRecord, event: SessionEvent): Promise<CallRecord | undefined> {
    const { deps, actions } = this;
    if (call.direction === "relay_in" || call.direction === "relay_out") return this.relay.onEvent(call, event);
    switch (event.type) {
      case "candidates":
        actions.partyCandidates(call, event.candidates);
        return call;
      case "answer": {
        // An outbound call's node may answer before its setup answer is handled.
        const answerable = call.state === "ringing" || (call.direction === "outbound" && call.state === "preparing");
        if (!answerable) return call;
        await deps.homeserver.sendEvent(call.virtualUserId, call.roomId!, ev.CALL_ANSWER,
          ev.answerContent(call.callId, call.bridgePartyId, event.answer), `answer.${call.callId}`);
        const connected = await deps.store.transitionCall(call.callId, ["ringing", "preparing"], {
          state: "connected", answer: event.answer, answeredAt: deps.now(),
        });
        if (connected) actions.answered(connected);
        return connected;
      }
      case "replace": {
        // Glare at the callee's node: its own call to our user survived; it
        // rings here instead, under the token this session already uses.
        if (call.state !== "preparing" && call.state !== "ringing") return call;
        await this.placement.adoptRemoteCall(call, event.sessionId as CallRecord["callId"], call.notifyToken!, event.offer, call.notifyUrl!);
        return { ...call, state: "replaced" };
      }
      case "negotiate": {
        if (call.state !== "connected" || call.matrixVersion !== "1" || !call.roomId) return call;
        await deps.homeserver.sendEvent(call.virtualUserId, call.roomId, ev.CALL_NEGOTIATE,
          ev.negotiateContent(call.callId, call.bridgePartyId, event.description, deps.calls.defaultLifetimeMs));
        return call;
      }
      case "hangup": {
        const connected = call.state === "connected";
        const inviteOut = call.state === "ringing" || connected;
        if (call.direction === "inbound") {
          await actions.end(call, {
            reason: "party_hangup",
            matrix: inviteOut ? { hangup: "user_hangup" } : undefined,
            notice: connected ? "ended" : "missed",
          });
        } else {
          // The called party declines a ringing call, or hangs up a connected one.
          await actions.end(call, {
            reason: "party_hangup",
            matrix: connected ? { hangup: "user_hangup" } : { reject: true },
            notice: connected ? "ended" : undefined,
          });
        }
        return { ...call, state: "ended" };
      }
      default:
        return call;
    }
  }
}

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
