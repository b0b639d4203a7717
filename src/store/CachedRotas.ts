import { RoomId } from "../ids/matrix";
import { Rota, RotaName } from "../model/rota";
import { LruCache } from "../util/LruCache";
import { RotaAnnounced, RotaRoom, RotaSave, RotaStore } from "./RotaStore";

/** Rota lookups by name trusted this long before the store is read again:
 *  how late this process sees a rota another bridge instance created, changed
 *  or deleted. Changes made through this process are seen at once. */
export const ROTA_CACHE_TTL_MS = 10_000;
const CACHE_SIZE = 10_000;

interface Entry {
  rota: Rota | undefined;
  at: number;
}

/**
 * Every inbound call to a user of this homeserver first asks whether the
 * callee's name is a rota's, and almost always it is not. Answering that
 * from memory keeps the warm path to a user free of a store round trip; the
 * answer (a rota, or none) is kept per name for ROTA_CACHE_TTL_MS, and this
 * process's own saves and deletes replace it at once.
 */
export class CachedRotas implements RotaStore {
  private readonly byName = new LruCache<RotaName, Entry>(CACHE_SIZE);
  /** Saves and deletes so far: a lookup that raced one does not cache what it read. */
  private writes = 0;

  constructor(private readonly inner: RotaStore, private readonly now: () => number = () => performance.now()) {}

  async getRota(name: RotaName): Promise<Rota | undefined> {
    const hit = this.byName.get(name);
    if (hit && this.now() - hit.at < ROTA_CACHE_TTL_MS) return hit.rota;
    const writesBefore = this.writes;
    const rota = await this.inner.getRota(name);
    if (this.writes === writesBefore) this.byName.set(name, { rota, at: this.now() });
    return rota;
  }

  getRotaByRoom(roomId: RoomId): Promise<Rota | undefined> {
    return this.inner.getRotaByRoom(roomId);
  }

  listRotas(): Promise<Rota[]> {
    return this.inner.listRotas();
  }

  async saveRota(next: Rota, expectedVersion: number): Promise<RotaSave> {
    this.writes++;
    const result = await this.inner.saveRota(next, expectedVersion);
    // Whatever the outcome, the next lookup reads what the store now holds.
    this.writes++;
    this.byName.delete(next.name);
    return result;
  }

  async deleteRota(name: RotaName, expectedVersion: number): Promise<boolean> {
    this.writes++;
    const deleted = await this.inner.deleteRota(name, expectedVersion);
    this.writes++;
    this.byName.delete(name);
    return deleted;
  }

  putRotaRoom(room: RotaRoom): Promise<void> {
    return this.inner.putRotaRoom(room);
  }

  getRotaRoom(roomId: RoomId): Promise<RotaRoom | undefined> {
    return this.inner.getRotaRoom(roomId);
  }

  deleteRotaRoom(roomId: RoomId): Promise<void> {
    return this.inner.deleteRotaRoom(roomId);
  }

  getAnnounced(name: RotaName): Promise<RotaAnnounced | undefined> {
    return this.inner.getAnnounced(name);
  }

  saveAnnounced(name: RotaName, next: Omit<RotaAnnounced, "version">, expectedVersion: number): Promise<boolean> {
    return this.inner.saveAnnounced(name, next, expectedVersion);
  }
}
