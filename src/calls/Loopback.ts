import { logger } from "../log";
import { SessionEvent, SetupResponse } from "../protocol/types";
import { MonotonicClock } from "../util/monotonicClock";
import { SetupPost } from "../webcall/setupClient";
import { WebCallNode } from "../webcall/WebCallNode";
import { EventPusher } from "./PartyChannel";

const log = logger("loopback");

/** The session-id alphabet (src/ids/session.ts), in a fixed order. */
const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-";
const HALF = ID_ALPHABET.length / 2;

/**
 * The id of the other half of a loopback call. Both halves live in one
 * store, so the called half cannot keep the caller's id as another node
 * would: its id is the caller's with the first character turned half-way
 * round the id alphabet. That is its own inverse (twinOf(twinOf(x)) === x),
 * never the id itself, and keeps the length, so either half finds the other.
 */
export function twinOf(sessionId: string): string {
  const at = ID_ALPHABET.indexOf(sessionId[0] ?? "");
  if (at < 0) return sessionId; // not a session id: no session has it
  return ID_ALPHABET[(at + HALF) % ID_ALPHABET.length]! + sessionId.slice(1);
}

/**
 * This node as the WebCall node of its own domain. A user of this homeserver
 * who calls an address on it (a rota, `on-call@example.org`) is placed as
 * any outbound call is, and this is the node found for the domain: the setup
 * goes straight to the call core, signed for by this node (it vouches for its
 * own user, as the `placed` hop of the setup's chain says), and the session
 * events between the two halves are handed over in-process, in order, both
 * ways. Nothing goes over HTTP to itself; every other node is pushed to
 * through `remote`.
 */
export class Loopback implements EventPusher {
  private node: WebCallNode | undefined;
  /** Per receiving session, the hand-over in progress: events stay in order. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly self: { publicUrl: string; domain: string }, private readonly remote: EventPusher, private readonly clock: MonotonicClock) {}

  /** The call core that answers for this node (set once it is built). */
  attach(node: WebCallNode): void {
    this.node = node;
  }

  /** This node's endpoint when `domain` is its own. */
  endpointFor(domain: string): string | undefined {
    return domain.toLowerCase() === this.self.domain ? this.self.publicUrl : undefined;
  }

  isSelf(endpoint: string): boolean {
    return endpoint === this.self.publicUrl;
  }

  /** The setup of a call to an address of this node, answered by its own core. */
  async setup(post: SetupPost): Promise<SetupResponse> {
    const own = post.request.sessionId;
    if (!this.node || !own) throw new Error("a loopback setup needs the call core and the caller's session id");
    const request = { ...post.request, sessionId: twinOf(own) };
    const response = await this.node.setup(request, { requestId: `loopback.${request.sessionId}`, receivedAt: this.clock.now(), signer: this.self.domain });
    if (response.status !== "success") return response;
    // Glare hands back a call of the callee's instead; in one store that call
    // is already the caller's own, so the attempt ends neutrally.
    if (response.sessionId !== request.sessionId) return { status: "could_not_attend" };
    return { ...response, sessionId: own };
  }

  push(notifyUrl: string, sessionId: string, token: string, events: SessionEvent[], destination?: string): void {
    if (!this.isSelf(notifyUrl)) {
      this.remote.push(notifyUrl, sessionId, token, events, destination);
      return;
    }
    const to = twinOf(sessionId);
    const before = this.queues.get(to) ?? Promise.resolve();
    const next = before.then(() => this.deliver(to, token, events));
    this.queues.set(to, next);
    void next.finally(() => {
      if (this.queues.get(to) === next) this.queues.delete(to);
    });
  }

  /** Waits for every hand-over in progress (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.queues.size) await Promise.all([...this.queues.values()]);
  }

  private async deliver(sessionId: string, token: string, events: SessionEvent[]): Promise<void> {
    try {
      await this.node!.deliver(sessionId, token, events, { requestId: `loopback.${sessionId}`, receivedAt: this.clock.now(), signer: this.self.domain });
    } catch (err) {
      // As a remote node's 4xx: the other half is over or never was; later events would fare no better.
      log.info("the other half of a loopback call did not take its events", { callId: sessionId, error: (err as Error).message });
    }
  }
}
