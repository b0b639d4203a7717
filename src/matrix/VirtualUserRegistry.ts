import { MatrixUserId, RoomId, localpartOfUser } from "../ids/matrix";
import { Store } from "../store/Store";
import { LruCache } from "../util/LruCache";
import { HomeserverClient } from "./HomeserverClient";

/**
 * Makes sure a virtual user exists on the homeserver before it acts, and
 * that in the DM where a call rings its name says what that call proved
 * about the caller (the address, ✓ or "(unverified)").
 *
 * The proof is shown in the room's member event, set directly, and never in
 * the global profile, which keeps the bare address given at registration.
 * Synapse copies a global name change into the user's member events later,
 * in a background task (handlers/profile.py, `_update_join_states`): a
 * spoofed call would ring under the last verified caller's ✓, and a
 * verified call in one DM would rewrite a spoof's name in another. Member
 * events are set only when the room's name changes (as far as this process
 * knows; after a restart, once per room, and Synapse drops an unchanged one).
 */
export class VirtualUserRegistry {
  private readonly known = new Set<string>();
  private readonly pending = new Map<string, Promise<void>>();
  /** The name last set in each DM (a DM has one virtual user). */
  private readonly roomNames = new LruCache<RoomId, string>(10_000);

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

  /** Makes `displayName` the user's name in `roomId`, which it has joined. */
  async nameIn(userId: MatrixUserId, roomId: RoomId, displayName: string): Promise<void> {
    if (this.roomNames.get(roomId) === displayName) return;
    await this.homeserver.sendState(userId, roomId, "m.room.member", { membership: "join", displayname: displayName }, userId);
    this.roomNames.set(roomId, displayName);
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
