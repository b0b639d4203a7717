import { createHash } from "node:crypto";
import type { ProvisioningStore, ProvisionSession } from "matrix-appservice-bridge";
import { MatrixUserId } from "../ids/matrix";
import { Store } from "../store/Store";

/** sha256 (hex) of a session token: what the store keeps instead of the token. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * The library's session store over ours. Only the token's hash is stored, so
 * a copy of the database does not let anyone act as the users in it.
 */
export class SessionStore implements ProvisioningStore {
  constructor(private readonly store: Store) {}

  async getSessionForToken(token: string): Promise<ProvisionSession | null> {
    const session = await this.store.getProvisioningSession(tokenHash(token));
    return session ? { userId: session.userId, token, expiresTs: session.expiresAt } : null;
  }

  async createSession(session: ProvisionSession): Promise<void> {
    await this.store.createProvisioningSession({
      tokenHash: tokenHash(session.token),
      userId: session.userId as MatrixUserId,
      expiresAt: session.expiresTs,
    });
  }

  async deleteSession(token: string): Promise<void> {
    await this.store.deleteProvisioningSession(tokenHash(token));
  }

  async deleteAllSessions(userId: string): Promise<void> {
    await this.store.deleteProvisioningSessions(userId as MatrixUserId);
  }
}
