import { MatrixUserId, localpartOfUser } from "../ids/matrix";
import { Store } from "../store/Store";
import { HomeserverClient } from "./HomeserverClient";

/**
 * Makes sure a virtual user exists on the homeserver, with its address as the
 * display name, before it acts. Registrations are remembered in memory and in
 * the store, so a warm call costs no homeserver round trip for this.
 */
export class VirtualUserRegistry {
  private readonly known = new Set<string>();
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly store: Store, private readonly homeserver: HomeserverClient) {}

  async ensure(userId: MatrixUserId, displayName: string): Promise<void> {
    if (this.known.has(userId)) return;
    let job = this.pending.get(userId);
    if (!job) {
      job = this.register(userId, displayName).finally(() => this.pending.delete(userId));
      this.pending.set(userId, job);
    }
    await job;
  }

  private async register(userId: MatrixUserId, displayName: string): Promise<void> {
    if (!(await this.store.isRegistered(userId))) {
      await this.homeserver.registerVirtualUser(localpartOfUser(userId));
      await this.homeserver.setDisplayName(userId, displayName);
      await this.store.markRegistered(userId);
    }
    this.known.add(userId);
  }
}
