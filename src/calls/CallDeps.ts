import { Config } from "../config/schema";
import { LocalUsers } from "../ids/localUsers";
import { VirtualUsers } from "../ids/virtualUsers";
import { DmInvites } from "../matrix/DmInvites";
import { DmRooms } from "../matrix/DmRooms";
import { HomeserverClient } from "../matrix/HomeserverClient";
import { VirtualUserRegistry } from "../matrix/VirtualUserRegistry";
import { Store } from "../store/Store";
import { NodeDiscovery } from "../webcall/discovery";
import { OutboundHttp } from "../webcall/outboundHttp";
import { PartyChannel } from "./PartyChannel";
import { NodeIdentity } from "./OutboundPlacement";

/** What the call core works with; built once in src/bridge.ts. */
export interface CallDeps {
  calls: Config["calls"];
  store: Store;
  homeserver: HomeserverClient;
  rooms: DmRooms;
  dmInvites: DmInvites;
  registry: VirtualUserRegistry;
  virtualUsers: VirtualUsers;
  localUsers: LocalUsers;
  party: PartyChannel;
  discovery: NodeDiscovery;
  outbound: OutboundHttp;
  self: NodeIdentity;
  now: () => number;
}

/** Calls between one Matrix user and one WebCall party share a DM, so they
 *  are serialised on this key: glare decisions from either side then never
 *  interleave. */
export function pairKey(matrixUserId: string, virtualUserId: string): string {
  return `${matrixUserId}|${virtualUserId}`;
}
