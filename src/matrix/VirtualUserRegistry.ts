import { MatrixUserId, localpartOfUser } from "../ids/matrix";
import { Store } from "../store/Store";
import { HomeserverClient } from "./HomeserverClient";

/**
 * Makes sure a virtual user exists on the homeserver before it acts, and
 * keeps its display name saying what the current call proved about the
 * caller (the address, ✓ or "(unverified)"). Registrations are remembered in
 * memory and in the store, and the last name set in memory, so a warm call
 * costs no homeserver round trip for this unless the name must change.
 */
export class VirtualUserRegistry {
  private readonly known = new Set<string>();
  private readonly pending = new Map<string, Promise<void>>();
  /** The display name last set, per virtual user (this process's view). */
  private readonly names = new Map<string, string>();

  constructor(private readonly store: Store, private readonly homeserver: HomeserverClient) {}

  /** Registers the user if needed; `displayName` is used only for a new registration. */
  async ensure(userId: MatrixUserId, displayName: string): Promise<void> {
    if (this.known.has(userId)) return;
    let job = this.pending.get(userId);
    if (!job) {
      job = this.register(userId, displayName).finally(() => this.pending.delete(userId));
      this.pending.set(userId, job);
    }
    await job;
  }

  /** Registers the user if needed and makes `displayName` its name. */
  async ensureNamed(userId: MatrixUserId, displayName: string): Promise<void> {
    await this.ensure(userId, displayName);
    if (this.names.get(userId) === displayName) return;
    await this.homeserver.setDisplayName(userId, displayName);
    this.names.set(userId, displayName);
  }

  private async register(userId: MatrixUserId, displayName: string): Promise<void> {
    if (!(await this.store.isRegistered(userId))) {
      await this.homeserver.registerVirtualUser(localpartOfUser(userId));
      await this.homeserver.setDisplayName(userId, displayName);
      this.names.set(userId, displayName);
      await this.store.markRegistered(userId);
    }
    this.known.add(userId);
  }
}
