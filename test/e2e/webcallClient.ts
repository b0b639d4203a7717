/** A WebCall/1 caller's HTTP side: setup, event delivery and long-poll pulls. */

export interface HttpResult { status: number; body: any; headers: Headers }

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

let eventCounter = 0;
export function eventId(): string {
  return `e${Date.now().toString(36)}${(++eventCounter).toString(36)}`;
}

export class WebCallSession {
  private since = 0;
  readonly received: any[] = [];

  constructor(readonly endpoint: string, public sessionId: string, public token: string) {}

  deliver(events: object[]): Promise<HttpResult> {
    return postJson(`${this.endpoint}/sessions/${encodeURIComponent(this.sessionId)}/events`,
      { events: events.map((e) => ({ id: eventId(), ...e })) }, { authorization: `Bearer ${this.token}` });
  }

  hangup(reason = "user_hangup"): Promise<HttpResult> {
    return this.deliver([{ type: "hangup", reason }]);
  }

  /** Long-polls until an event of `type` arrives (events before it are kept in `received`). */
  async waitForEvent(type: string, timeoutMs = 15_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find((e) => e.type === type);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a ${type} session event (got ${this.received.map((e) => e.type).join(", ") || "nothing"})`);
      const res = await fetch(`${this.endpoint}/sessions/${encodeURIComponent(this.sessionId)}/events?since=${this.since}&timeout=${Math.min(left, 5000)}`,
        { headers: { authorization: `Bearer ${this.token}` } });
      if (res.status === 410) throw new Error(`session over before a ${type} event (got ${this.received.map((e) => e.type).join(", ")})`);
      if (res.status !== 200) throw new Error(`poll failed: ${res.status} ${await res.text()}`);
      const body = await res.json() as { events: any[]; next: number };
      this.received.push(...body.events);
      this.since = body.next;
    }
  }
}
