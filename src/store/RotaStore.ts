import { MatrixUserId, RoomId } from "../ids/matrix";
import { Rota, RotaName } from "../model/rota";

/** What a rota's room was last told of its schedule (src/rota/announcements.ts's Announced). */
export interface RotaAnnounced {
  /** The person announced as on call (their memberKey); null: nobody. */
  member: string | null;
  /** The start of the shift in force when last looked at. */
  shiftFrom: number | null;
  /** The shift last reminded of. */
  reminded: string | null;
  /** Compare-and-set version (0 = never saved). */
  version: number;
}

/** A group room the bot stays in to answer `rota …` (with or without a rota). */
export interface RotaRoom {
  roomId: RoomId;
  invitedBy: MatrixUserId;
  /** ms since the epoch */
  joinedAt: number;
}

/** What a compare-and-set save of a rota did. */
export type RotaSave =
  | "saved"
  /** Someone else saved (or deleted) it first: re-read and retry. */
  | "conflict"
  /** A first save whose name another rota has. */
  | "name_taken"
  /** A first save in a room that already is another rota. */
  | "room_taken";

/**
 * Rotas in the store (src/model/rota.ts): one per room, names unique, every
 * save conditional on the version it was made from, so two moderators (or
 * two bridge instances) editing at once cannot lose one another's change.
 */
export interface RotaStore {
  getRota(name: RotaName): Promise<Rota | undefined>;
  getRotaByRoom(roomId: RoomId): Promise<Rota | undefined>;
  /** Every rota, by name (for the schedule's handovers and the call core). */
  listRotas(): Promise<Rota[]>;
  /** Saves `next` (its `version` is ignored) as version expectedVersion + 1,
   *  only if the stored version is still expectedVersion (0 = a new rota). */
  saveRota(next: Rota, expectedVersion: number): Promise<RotaSave>;
  /** Deletes the rota if its stored version is still expectedVersion; false otherwise. */
  deleteRota(name: RotaName, expectedVersion: number): Promise<boolean>;

  /** Insert or replace a rota room (the bot joined it). */
  putRotaRoom(room: RotaRoom): Promise<void>;
  getRotaRoom(roomId: RoomId): Promise<RotaRoom | undefined>;
  /** Forgets the room (the bot left it or was removed); its rota, if any, stays. */
  deleteRotaRoom(roomId: RoomId): Promise<void>;

  /** What the rota's room was last told (handover announcements); undefined: nothing yet. */
  getAnnounced(name: RotaName): Promise<RotaAnnounced | undefined>;
  /** Saves `next` as version expectedVersion + 1, only if the stored version is
   *  still expectedVersion (0 = none yet) and the rota exists; false otherwise
   *  (another instance told the room first, or the rota is gone). */
  saveAnnounced(name: RotaName, next: Omit<RotaAnnounced, "version">, expectedVersion: number): Promise<boolean>;
}
