/** A Matrix user's /sync long-poll loop; resolves waiters the moment an event
 *  matching them arrives in a sync response. */
export class SyncWatcher {
  private since?: string;
  private running = true;
  private readonly waiters: { match: (e: any) => boolean; resolve: (t: number) => void }[] = [];
  private loop?: Promise<void>;

  constructor(private readonly baseUrl: string, private readonly accessToken: string) {}

  async start(): Promise<void> {
    await this.poll(0);
    this.loop = (async () => { while (this.running) await this.poll(30000); })();
  }

  /** Resolves with the performance.now() at which a matching timeline event arrived. */
  waitFor(match: (e: any) => boolean): Promise<number> {
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  async stop(): Promise<void> {
    this.running = false;
  }

  private async poll(timeout: number): Promise<void> {
    const url = `${this.baseUrl}/_matrix/client/v3/sync?timeout=${timeout}${this.since ? `&since=${this.since}` : ""}`;
    let body: any;
    try {
      const res = await fetch(url, { headers: { authorization: `Bearer ${this.accessToken}` } });
      body = await res.json();
    } catch {
      if (this.running) await new Promise((r) => setTimeout(r, 50));
      return;
    }
    const at = performance.now();
    this.since = body.next_batch;
    for (const [roomId, room] of Object.entries<any>(body.rooms?.join ?? {})) {
      for (const event of room.timeline?.events ?? []) this.deliver({ ...event, room_id: roomId }, at);
    }
  }

  private deliver(event: any, at: number): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i]!.match(event)) {
        this.waiters[i]!.resolve(at);
        this.waiters.splice(i, 1);
      }
    }
  }
}
