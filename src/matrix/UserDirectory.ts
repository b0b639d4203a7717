import { MatrixUserId } from "../ids/matrix";
import { LruCache } from "../util/LruCache";
import { HomeserverClient } from "./HomeserverClient";

const ABSENT_TTL_MS = 60_000;
const ABSENT_CAPACITY = 10_000;

/**
 * Whether a user of this homeserver exists, asked of the homeserver on first
 * contact. "No such user" is remembered for a minute, so calls to made-up
 * names cost the homeserver one lookup per name per minute however many
 * arrive (a user registered in that minute is reachable after it).
 */
export class UserDirectory {
  private readonly absent = new LruCache<MatrixUserId, number>(ABSENT_CAPACITY);

  constructor(private readonly homeserver: HomeserverClient, private readonly now: () => number = Date.now) {}

  knownAbsent(userId: MatrixUserId): boolean {
    const until = this.absent.get(userId);
    return until !== undefined && until > this.now();
  }

  /** Throws when the homeserver cannot say. */
  async exists(userId: MatrixUserId): Promise<boolean> {
    const exists = await this.homeserver.userExists(userId);
    if (exists) this.absent.delete(userId);
    else this.absent.set(userId, this.now() + ABSENT_TTL_MS);
    return exists;
  }
}
