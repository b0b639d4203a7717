import { Address } from "../ids/address";
import { MatrixUserId, RoomId } from "../ids/matrix";
import { DefaultAction } from "../model/rules";
import { Rota, RotaMember, RotaName } from "../model/rota";
import { Session } from "../model/session";
import { SessionEventBody, SetupResponse } from "../protocol/types";
import { DmRoom } from "../store/Store";
import { SetupPost } from "../webcall/setupClient";

/**
 * The two sides the call core talks to, each through one small interface
 * (as mautrix's bridgev2 separates its network and Matrix connectors): the
 * core decides, these carry. src/calls/connectors.ts implements them on the
 * homeserver client and the WebCall party channel; test/calls/ has fakes.
 */

/** A DM the call can ring in, or why there is none. */
export type DmOutcome = { room: DmRoom; created: boolean } | { encrypted: true };

export interface MatrixSide {
  /** Registers the virtual user, if not yet, with this display name. */
  ensureVirtualUser(userId: MatrixUserId, displayName: string): Promise<void>;
  /** Sets the virtual user's name in one room's member event (this call's proof). */
  nameIn(userId: MatrixUserId, roomId: RoomId, displayName: string): Promise<void>;
  findDm(matrixUserId: MatrixUserId, virtualUserId: MatrixUserId): Promise<DmRoom | undefined>;
  dmByRoom(roomId: RoomId): Promise<DmRoom | undefined>;
  /** The pair's DM, made (the user invited) if none; `reinvite`: a user not
   *  joined is invited again. */
  ensureDm(matrixUserId: MatrixUserId, virtualUserId: MatrixUserId, reinvite: boolean): Promise<DmOutcome>;
  setJoined(roomId: RoomId, joined: boolean): Promise<void>;
  forgetDm(roomId: RoomId): Promise<void>;
  /** A Matrix user invited a virtual user to a room (a DM they start);
   *  `ownUser`: the address is that user's of this homeserver (refused). */
  onDmInvite(roomId: RoomId, inviter: MatrixUserId, virtualUserId: MatrixUserId, address: Address | null | undefined,
    ownUser?: MatrixUserId): Promise<void>;
  /** An m.call.* event as the virtual user; `txnId` makes a resend idempotent. */
  sendCallEvent(as: MatrixUserId, roomId: RoomId, type: string, content: object, txnId?: string): Promise<void>;
  /** Whether the virtual user already sent this call's event of `type` (resume after a restart). */
  sentCallEvent(as: MatrixUserId, roomId: RoomId, type: string, callId: string): Promise<boolean>;
  notice(as: MatrixUserId, roomId: RoomId, text: string): Promise<void>;
  /** Whether the homeserver knows the user (first contact). */
  userExists(userId: MatrixUserId): Promise<boolean>;
  knownAbsent(userId: MatrixUserId): boolean;
}

export interface PartySide {
  /** Queues a session event for the party (so a pull finds it), wakes
   *  pullers and pushes it to the party's node if it has one. */
  send(session: Session, body: SessionEventBody): Promise<void>;
  /** Pushes everything queued so far, to a party just attached (glare). */
  replay(session: Session): Promise<void>;
  /** Wakes pullers without an event (the session ended). */
  wake(sessionId: string): void;
  subscribe(sessionId: string, wake: () => void): () => void;
  /** POSTs a setup to another node, signed; its answer (or throws). */
  postSetup(post: SetupPost): Promise<SetupResponse>;
  /** The domain's node, from discovery. */
  endpointFor(domain: string): Promise<string | undefined>;
  /** The domain's node if already known, without a lookup. */
  knownEndpoint(domain: string): string | undefined;
}

/** Rotas, as calls to them need them (src/calls/RotaCalls.ts): the store's
 *  rotas, the rota room's members and the bot's notices there. */
export interface RotaSide {
  find(name: RotaName): Promise<Rota | undefined>;
  /** The rotation order: the rota's own, or the room's joined users of this
   *  homeserver in join order. */
  members(rota: Rota): Promise<RotaMember[]>;
  /** An m.notice from the bot in the rota's room, mentioning `mentions`;
   *  `txnId` makes a resend (after a restart) the same message. */
  notice(roomId: RoomId, body: string, mentions: readonly MatrixUserId[], txnId?: string): Promise<void>;
  /** What a rota without rules does (config rules.defaultAction). */
  bridgeDefault: DefaultAction;
  /** The bridge bot: it stands for the forwarding user when a rota's rules
   *  forward a call to another node. */
  bot: MatrixUserId;
}
