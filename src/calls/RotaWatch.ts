import { logger } from "../log";
import { Address } from "../ids/address";
import { MatrixUserId } from "../ids/matrix";
import { Leg } from "../model/leg";
import { RotaCall } from "../model/rota";
import { InboundSession, Session } from "../model/session";
import * as text from "../rota/callNotices";
import { CallWatcher, Rung, rungName } from "./CallWatch";
import { RotaSide } from "./ports";

const log = logger("rota-calls");

/**
 * One rota call's notices in the rota room (docs/rotas.md), sent in order,
 * never in the call's way. Everything it needs is on the session (`rota`,
 * `ring`) and its legs, so after a restart CallCore.resume builds it again
 * from the store. Each notice's transaction id is derived from the session
 * and what it says (`step2`, `answered`, `end`): a notice sent again after a
 * restart is the same message to the homeserver.
 */
export class RotaWatch implements CallWatcher {
  private readonly tried = new Set<text.NoticeMember>();
  private queue: Promise<void> = Promise.resolve();
  private lastStep = -1;

  constructor(private readonly side: RotaSide, private readonly call: RotaCall, private readonly stepMs: number | null) {}

  /** The watcher of a stored rota call: the members rung so far (Matrix
   *  users by their legs, members on other nodes by their attempts) count as tried. */
  static resumed(side: RotaSide, session: InboundSession & { rota: RotaCall }, legs: readonly Leg[], remote: readonly Address[]): RotaWatch {
    const watch = new RotaWatch(side, session.rota, session.ring.mode === "sequence" ? session.ring.stepMs : null);
    for (const leg of legs) if (leg.state !== "queued" && leg.state !== "preparing") watch.tried.add(leg.matrixUserId);
    for (const address of remote) watch.tried.add(address);
    return watch;
  }

  stepRinging(session: InboundSession, ringing: readonly Rung[], previous: readonly Rung[]): void {
    const users = ringing.map(rungName);
    for (const u of users) this.tried.add(u);
    const onCall = this.call.onCall ?? undefined;
    const step = ringing[0]?.step ?? 0;
    // Told once a step's invites are out, so a step whose legs all failed to
    // ring may have handed over to the next already: its news is in that notice.
    if (step < this.lastStep) return;
    this.lastStep = step;
    this.send(session, `step${step}`, previous.length === 0 ? text.ringingFirst(this.call.caller, users, onCall)
      : text.escalated(previous.map((r) => ({ userId: rungName(r), declined: r.endReason === "declined" })), this.stepMs, users, onCall));
  }

  answered(session: Session, by: Rung): void {
    this.send(session, "answered", text.answered(rungName(by), (session.answeredAt ?? session.createdAt) - session.createdAt));
  }

  endedUnanswered(session: Session, event: "hangup" | "expire" | "unanswered" | "glare_lost"): void {
    if (session.endReason === "party_hangup") this.send(session, "end", text.callerHungUp((session.endedAt ?? session.createdAt) - session.createdAt));
    else if (event === "unanswered" || event === "expire") this.send(session, "end", text.missed(this.tried.size));
  }

  /** A notice for no session: nobody could be rung. */
  nobodyToRing(skipped: number): void {
    this.queued(() => this.side.notice(this.call.roomId, ...body(text.nobodyToRing(this.call.caller, skipped))));
  }

  private send(session: Session, what: string, notice: text.RotaNotice): void {
    this.queued(() => this.side.notice(this.call.roomId, ...body(notice), `rota.${session.id}.${what}`));
  }

  private queued(send: () => Promise<void>): void {
    this.queue = this.queue.then(send)
      .catch((err: Error) => { log.warn("could not leave a notice in the rota room", { rota: this.call.name, error: err.message }); });
  }
}

function body(notice: text.RotaNotice): [string, MatrixUserId[]] {
  return [notice.body, notice.mentions];
}
