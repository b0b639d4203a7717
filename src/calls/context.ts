import { createHash } from "node:crypto";
import { SessionId } from "../ids/session";
import { Leg } from "../model/leg";
import { Session } from "../model/session";
import { CallerIdentity } from "../model/callerIdentity";
import { Core } from "./CallDeps";
import { LiveCalls } from "./LiveCalls";
import { PairLocks } from "./PairLocks";

/** What every part of the call core shares: its sides, its memory, its locks. */
export class CallContext {
  readonly live = new LiveCalls();
  readonly locks = new PairLocks();

  constructor(readonly core: Core) {}

  /** Runs `task` under the session's pair locks with its current session and
   *  legs, read inside them; undefined if there is no such session. */
  async withSession<T>(id: SessionId, task: (session: Session, legs: Leg[]) => Promise<T>): Promise<T | undefined> {
    const { store } = this.core;
    let keys = this.live.knownLockKeys(id);
    if (!keys) {
      const found = await store.getSessionWithLegs(id);
      if (!found) return undefined;
      keys = LiveCalls.lockKeys(found.session, found.legs);
    }
    return this.locks.run(keys, async () => {
      const current = await store.getSessionWithLegs(id);
      return current ? task(current.session, current.legs) : undefined;
    });
  }

  expired(session: Session): boolean {
    return this.core.now() >= session.expiresAt;
  }
}

/** The virtual user's name: the address, marked ✓ when a signature proved
 *  it on this call and "(unverified)" when nothing did. */
export function displayNameFor(address: string | null, identity?: CallerIdentity | null): string {
  if (address === null) return "Anonymous caller";
  if (!identity) return address;
  return identity.verified ? `${address} ✓` : `${address} (unverified)`;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Identifies a setup's parties, so a retry with the same session id and token is recognised. */
export function setupFingerprint(caller: string | null, callee: string): string {
  return createHash("sha256").update(`${caller ?? ""}\u0000${callee}`).digest("hex");
}
