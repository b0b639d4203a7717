import type { CreatedUser } from "../homeserver";
import type { E2EHomeserver } from "./homeserver";
import { waitFor } from "./fixture";

/** A Matrix user driven over plain client-server HTTP, for signalling-level
 *  tests that need exact control of the events (versions, party ids, timing). */
export class RawMatrixUser {
  private txn = 0;
  constructor(readonly hs: E2EHomeserver, readonly user: CreatedUser) {}

  get userId(): string {
    return this.user.userId;
  }

  async request(method: string, path: string, body?: object): Promise<any> {
    const res = await fetch(`${this.hs.url}${path}`, {
      method, headers: { authorization: `Bearer ${this.user.accessToken}`, "content-type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  send(roomId: string, type: string, content: object): Promise<{ event_id: string }> {
    return this.request("PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/${type}/raw${++this.txn}.${Date.now()}`, content);
  }

  join(roomId: string): Promise<unknown> {
    return this.request("POST", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/join`, {});
  }

  leave(roomId: string): Promise<unknown> {
    return this.request("POST", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/leave`, {});
  }

  private since?: string;
  /** Invites seen so far: room id → who sent the invite. */
  private readonly invites = new Map<string, string>();

  /**
   * The room this user was invited to by `inviter`. Syncs incrementally, as a
   * client does: Synapse caches a /sync response for two minutes
   * (`caches.sync_response_cache_duration`), so repeating an initial sync
   * would keep answering what it said the first time.
   */
  async waitForInviteFrom(inviter: string, timeoutMs = 10_000): Promise<string> {
    return waitFor(async () => {
      const found = [...this.invites].find(([, by]) => by === inviter);
      if (found) {
        this.invites.delete(found[0]);
        return found[0];
      }
      const query = this.since ? `?timeout=500&since=${encodeURIComponent(this.since)}` : "?timeout=0";
      const sync = await this.request("GET", `/_matrix/client/v3/sync${query}`);
      this.since = sync.next_batch;
      for (const [roomId, room] of Object.entries<any>(sync.rooms?.invite ?? {})) {
        const invite = room.invite_state.events.find((e: any) => e.type === "m.room.member" && e.state_key === this.userId);
        if (invite) this.invites.set(roomId, invite.sender);
      }
      return undefined;
    }, timeoutMs, `an invite from ${inviter}`);
  }

  /** The first event in the room matching the predicate. */
  waitForEvent(roomId: string, predicate: (e: any) => boolean, timeoutMs = 10_000): Promise<any> {
    return waitFor(async () => (await this.hs.timeline(roomId)).find(predicate), timeoutMs, "a room event");
  }
}
