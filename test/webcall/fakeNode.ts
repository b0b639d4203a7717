import { DomainError } from "../../src/errors/DomainError";
import { SessionEvent, SetupRequest, SetupResponse } from "../../src/protocol/types";
import { RequestContext, WebCallNode } from "../../src/webcall/WebCallNode";
import { Config } from "../../src/config/schema";

/** A scriptable WebCallNode that records what the listener asked of it. */
export class FakeNode implements WebCallNode {
  readonly calls: { method: string; args: unknown[] }[] = [];
  readonly sessions = new Map<string, { token: string; events: SessionEvent[]; over: boolean; subs: Set<() => void> }>();
  /** Override to script setup answers. */
  setupImpl: (request: SetupRequest, ctx: RequestContext) => Promise<SetupResponse> = async (request) =>
    ({ status: "success", sessionId: request.sessionId ?? "generated-session-0001", token: request.token ?? "t".repeat(43) });
  deliverImpl?: (sessionId: string, token: string, events: SessionEvent[]) => Promise<void>;

  setup(request: SetupRequest, ctx: RequestContext): Promise<SetupResponse> {
    this.calls.push({ method: "setup", args: [request, ctx] });
    return this.setupImpl(request, ctx);
  }

  async deliver(sessionId: string, token: string, events: SessionEvent[], ctx: RequestContext): Promise<void> {
    this.calls.push({ method: "deliver", args: [sessionId, token, events, ctx] });
    if (this.deliverImpl) return this.deliverImpl(sessionId, token, events);
    const session = this.authorise(sessionId, token);
    if (session.over) throw new DomainError("WEBCALL_SESSION_OVER", "session over");
  }

  async eventsSince(sessionId: string, token: string, since: number): Promise<{ events: SessionEvent[]; next: number; over: boolean }> {
    this.calls.push({ method: "eventsSince", args: [sessionId, token, since] });
    const session = this.authorise(sessionId, token);
    const events = session.events.slice(since);
    return { events, next: Math.max(since, session.events.length), over: session.over };
  }

  subscribe(sessionId: string, wake: () => void): () => void {
    this.calls.push({ method: "subscribe", args: [sessionId] });
    const subs = this.sessions.get(sessionId)?.subs ?? new Set();
    subs.add(wake);
    return () => { subs.delete(wake); };
  }

  addSession(sessionId: string, token: string): void {
    this.sessions.set(sessionId, { token, events: [], over: false, subs: new Set() });
  }

  emit(sessionId: string, ...events: SessionEvent[]): void {
    const session = this.sessions.get(sessionId)!;
    session.events.push(...events);
    for (const wake of [...session.subs]) wake();
  }

  end(sessionId: string): void {
    const session = this.sessions.get(sessionId)!;
    session.over = true;
    for (const wake of [...session.subs]) wake();
  }

  subscribers(sessionId: string): number {
    return this.sessions.get(sessionId)?.subs.size ?? 0;
  }

  private authorise(sessionId: string, token: string) {
    const session = this.sessions.get(sessionId);
    if (!session) throw new DomainError("WEBCALL_UNKNOWN_SESSION", "unknown session");
    if (session.token !== token) throw new DomainError("WEBCALL_BAD_TOKEN", "bad token");
    return session;
  }
}

export function webcallConfig(overrides: Partial<Config["webcall"]> = {}): Config["webcall"] {
  return {
    bind: "127.0.0.1",
    port: 0,
    publicUrl: "https://webcall.test/webcall",
    maxBodyBytes: 65536,
    requestTimeoutMs: 1000,
    pollTimeoutMs: 2000,
    rateLimit: { windowMs: 10000, max: 10000 },
    trustProxy: false,
    ...overrides,
  };
}

export function outboundConfig(overrides: Partial<Config["outbound"]> = {}): Config["outbound"] {
  return {
    allowHttp: false, allowPrivateNetworks: false, trustedHosts: [], nodes: {}, timeoutMs: 2000, maxResponseBytes: 65536,
    discoveryCacheMs: 300000, discoveryFailureCacheMs: 60000, discoveryCacheSize: 10000, ...overrides,
  };
}
