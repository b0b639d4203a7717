import { logger } from "../log";
import { domainOf } from "../ids/address";
import { newPartyId, newSessionToken, tryParseSessionId } from "../ids/session";
import * as ev from "../matrix/callEvents";
import { CallInvite } from "../matrix/events/types";
import { Leg, LegId, newLeg, pairKey } from "../model/leg";
import { OutboundSession, outboundSession } from "../model/session";
import { SESSION_MOVES } from "../model/transitions";
import { DmRoom } from "../store/Store";
import { CallContext, hashToken } from "./context";
import { Endings } from "./Endings";
import { lesserWins } from "./glare";
import { OutboundPlacement } from "./OutboundPlacement";

const log = logger("from-matrix");

/**
 * A Matrix user's own call to the WebCall party of a DM (its m.call.invite
 * to the virtual user): stored as an outbound session with one leg, checked
 * for glare against a WebCall call to them in the same DM, and placed at the
 * callee's node. Runs under the pair's lock.
 */
export class OwnCalls {
  constructor(private readonly ctx: CallContext, private readonly endings: Endings, private readonly placement: OutboundPlacement) {}

  async onInvite(event: CallInvite, dm: DmRoom, receivedAt: number): Promise<void> {
    const { core, live } = this.ctx;
    if (event.invitee !== null && event.invitee !== dm.virtualUserId) return;
    // A call is as long as the bridge lets any call ring, whatever the client asks.
    const lifetime = Math.min(event.lifetimeMs, core.calls.maxLifetimeMs);
    const age = event.ageMs + (core.now() - receivedAt);
    if (age >= lifetime) return; // an expired invite never rings
    const callId = tryParseSessionId(event.callId);
    if (!callId) {
      // Its call_id becomes the WebCall session id, whose grammar is narrower
      // than Matrix's: the call cannot be placed, and the caller's device is told at once.
      log.warn("refusing a call whose call_id cannot be a WebCall session id", { eventId: event.eventId, roomId: dm.roomId });
      await core.matrix.sendCallEvent(dm.virtualUserId, dm.roomId, ev.CALL_REJECT, ev.rejectContent(event.callId, newPartyId()), `reject.${event.eventId}`);
      return;
    }
    const callee = core.virtualUsers.addressOf(dm.virtualUserId);
    const caller = core.localUsers.addressOf(dm.matrixUserId);
    if (!callee || !caller) return; // the anonymous caller cannot be called back
    const now = core.now();
    // With the callee's node already known, the call is on its way from the
    // start: it is stored attached to the node, and placing it costs no
    // further store round trip.
    const endpoint = core.party.knownEndpoint(domainOf(callee));
    const token = endpoint ? newSessionToken() : null;
    const session = outboundSession({
      id: callId, virtualUserId: dm.virtualUserId, caller, callee, offer: event.offer,
      lifetimeMs: lifetime, createdAt: now, expiresAt: now + lifetime - age, via: [],
      party: endpoint && token ? { tokenHash: hashToken(token), delivery: { mode: "push", notifyUrl: endpoint, token, peerNode: null } } : null,
    });
    const leg = newLeg({
      callId: callId as string as LegId, sessionId: callId, position: 0, state: "ringing", matrixUserId: dm.matrixUserId,
      virtualUserId: dm.virtualUserId, roomId: dm.roomId, bridgePartyId: newPartyId(), matrixPartyId: event.partyId, matrixVersion: event.version,
    });
    const inserted = await core.store.insertSession(session, [leg]);
    if (!inserted.inserted) return; // a retried transaction
    live.remember(session, [leg]);
    live.trackOwnCall(session, leg);
    live.armLifetime(session.id, session.expiresAt - now, () => {
      this.ctx.withSession(session.id, (current) => this.endings.expire(current))
        .catch((err: Error) => log.error("lifetime expiry failed", { callId: session.id, error: (err as Error).message }));
    });
    if (await this.glareWithInbound(session, leg)) return;
    // Placed outside this lock's turn: the callee's node may be calling us right now.
    void this.placement.place(session);
  }

  /**
   * The user's invite meets a WebCall call to them in the same DM. If ours
   * was still being prepared, theirs wins; if ours was sent, the lesser id
   * wins. The loser is ended by the bridge itself (clients may not do their
   * half), and a losing WebCall party is told to continue in the survivor.
   */
  private async glareWithInbound(mine: OutboundSession, myLeg: Leg): Promise<boolean> {
    const { core, live } = this.ctx;
    if (!live.mayHaveUnansweredInbound(pairKey(myLeg.matrixUserId, myLeg.virtualUserId))) return false;
    const legs = (await core.store.liveLegsInRoom(myLeg.roomId!)).filter((l) => l.sessionId !== mine.id && l.state !== "connected");
    for (const theirLeg of legs) {
      const inbound = await core.store.getSession(theirLeg.sessionId);
      if (inbound?.kind !== "inbound" || inbound.state === "connected") continue;
      const wasSent = theirLeg.state === "ringing";
      const userWins = !wasSent || lesserWins(inbound.id, mine.id) === mine.id;
      if (!userWins) {
        await this.endings.end(mine, { reason: "glare", matrix: { reject: true }, replacedBy: inbound.id });
        return true;
      }
      // The WebCall party answers the user's call instead of placing it anew.
      const placed = SESSION_MOVES.placed;
      const attached = await core.store.transitionSession(mine.id, ["preparing"], { state: placed.to, party: inbound.party }) as OutboundSession | undefined;
      if (!attached) return true;
      live.trackOwnCall(attached, myLeg);
      await core.party.send(inbound, { type: "replace", sessionId: mine.id, offer: mine.offer });
      await this.endings.end(inbound, { reason: "glare", matrix: { hangup: "user_hangup" }, replacedBy: mine.id });
      await core.party.replay(attached);
      log.info("glare: the Matrix user's call survives", { lost: inbound.id, kept: mine.id });
      return true;
    }
    return false;
  }
}
