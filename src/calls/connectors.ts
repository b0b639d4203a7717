import { NodeDiscovery } from "../net/discovery";
import { OutboundHttp } from "../net/outboundHttp";
import { DmInvites } from "../matrix/DmInvites";
import { DmRooms } from "../matrix/DmRooms";
import { HomeserverClient } from "../matrix/HomeserverClient";
import { UserDirectory } from "../matrix/UserDirectory";
import { VirtualUserRegistry } from "../matrix/VirtualUserRegistry";
import { joinedInJoinOrder } from "../matrix/roomMembers";
import { MatrixUserId } from "../ids/matrix";
import { DefaultAction } from "../model/rules";
import { RotaStore } from "../store/RotaStore";
import { NodeKeys } from "../signing/NodeKeys";
import { postSetup } from "../webcall/setupClient";
import { Loopback } from "./Loopback";
import { PartyChannel } from "./PartyChannel";
import { MatrixSide, PartySide, RotaSide } from "./ports";

/** The Matrix side on the homeserver client and the DM rooms. */
export function matrixConnector(m: {
  homeserver: HomeserverClient; users: UserDirectory; rooms: DmRooms; dmInvites: DmInvites; registry: VirtualUserRegistry;
}): MatrixSide {
  return {
    ensureVirtualUser: (userId, name) => m.registry.ensure(userId, name),
    nameIn: (userId, roomId, name) => m.registry.nameIn(userId, roomId, name),
    findDm: (matrixUserId, virtualUserId) => m.rooms.find(matrixUserId, virtualUserId),
    dmByRoom: (roomId) => m.rooms.findByRoomId(roomId),
    async ensureDm(matrixUserId, virtualUserId, reinvite) {
      const ensured = await m.rooms.ensure(matrixUserId, virtualUserId);
      if (reinvite && "room" in ensured && !ensured.created && !ensured.room.matrixUserJoined) return m.rooms.reinvite(ensured.room);
      return ensured;
    },
    setJoined: async (roomId, joined) => {
      await m.rooms.setJoined(roomId, joined);
    },
    forgetDm: (roomId) => m.rooms.forget(roomId),
    onDmInvite: (roomId, inviter, virtualUserId, address, ownUser) => m.dmInvites.onInvite(roomId, inviter, virtualUserId, address, ownUser),
    sendCallEvent: async (as, roomId, type, content, txnId) => {
      await m.homeserver.sendEvent(as, roomId, type, content, txnId);
    },
    sentCallEvent: (as, roomId, type, callId) => m.homeserver.sentCallEvent(as, roomId, type, callId),
    notice: async (as, roomId, text) => {
      await m.homeserver.sendEvent(as, roomId, "m.room.message", { msgtype: "m.notice", body: text });
    },
    userExists: (userId) => m.users.exists(userId),
    knownAbsent: (userId) => m.users.knownAbsent(userId),
  };
}

/** The WebCall side on the party channel, discovery and the signed setup
 *  client; this node's own domain is answered by the loopback, in-process. */
export function partyConnector(p: {
  party: PartyChannel; discovery: NodeDiscovery; outbound: OutboundHttp; keys: NodeKeys; loopback: Loopback; now: () => number;
}): PartySide {
  return {
    send: (session, body) => p.party.send(session, body),
    replay: (session) => p.party.replay(session),
    wake: (id) => p.party.wake(id),
    subscribe: (id, wake) => p.party.subscribe(id, wake),
    postSetup: (post) => p.loopback.isSelf(post.endpoint) ? p.loopback.setup(post) : postSetup(p.outbound, p.keys, post, p.now),
    endpointFor: async (domain) => p.loopback.endpointFor(domain) ?? (await p.discovery.endpointFor(domain)) ?? undefined,
    knownEndpoint: (domain) => p.loopback.endpointFor(domain) ?? p.discovery.known(domain),
  };
}

/** Rotas on the store and the homeserver, the room read and told as the bot. */
export function rotaConnector(r: {
  store: RotaStore; homeserver: HomeserverClient; botUserId: MatrixUserId; bridgeDefault: DefaultAction;
  /** Whether a joined member counts as a rota member: a user of this homeserver, not the bridge's own. */
  isMember(userId: MatrixUserId): boolean;
}): RotaSide {
  return {
    find: (name) => r.store.getRota(name),
    async members(rota) {
      if (rota.members !== null) return rota.members;
      const state = await r.homeserver.roomState(r.botUserId, rota.roomId);
      return joinedInJoinOrder(state, (userId) => !r.isMember(userId)).map((userId) => ({ kind: "matrix", userId }));
    },
    notice: async (roomId, body, mentions, txnId) => {
      await r.homeserver.sendEvent(r.botUserId, roomId, "m.room.message", { msgtype: "m.notice", body, "m.mentions": { user_ids: [...mentions] } }, txnId);
    },
    bridgeDefault: r.bridgeDefault,
    bot: r.botUserId,
  };
}
