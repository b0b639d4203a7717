import { Config } from "../config/schema";
import { MatrixUserId } from "../ids/matrix";
import { CallFacts, Decision, UserRules } from "../model/rules";
import { LocalUsers } from "../ids/localUsers";
import { VirtualUsers } from "../ids/virtualUsers";
import { DmInvites } from "../matrix/DmInvites";
import { DmRooms } from "../matrix/DmRooms";
import { HomeserverClient } from "../matrix/HomeserverClient";
import { UserDirectory } from "../matrix/UserDirectory";
import { VirtualUserRegistry } from "../matrix/VirtualUserRegistry";
import { Store } from "../store/Store";
import { NodeDiscovery } from "../net/discovery";
import { OutboundHttp } from "../net/outboundHttp";
import { CallerCheck } from "../signing/CallerCheck";
import { NodeKeys } from "../signing/NodeKeys";
import { MonotonicClock } from "../util/monotonicClock";
import { Loopback } from "./Loopback";
import { PartyChannel } from "./PartyChannel";
import { MatrixSide, PartySide, RotaSide } from "./ports";

export interface NodeIdentity {
  /** This bridge's WebCall endpoint, given as `notify`. */
  publicUrl: string;
  /** This node's domain, added to `via`. */
  domain: string;
}

/** What the bridge gives the call core (src/bridge.ts); CallCore wraps the
 *  Matrix and WebCall pieces into its two sides. */
export interface CallDeps {
  calls: Config["calls"];
  rules: CalleeRules;
  /** Longest via chain a forwarded call may travel (config rules.maxForwardHops). */
  maxForwardHops: number;
  /** How long a setup may wait for the next node when forwarding (within the
   *  caller's own request timeout). */
  forwardBudgetMs: number;
  store: Store;
  homeserver: HomeserverClient;
  users: UserDirectory;
  rooms: DmRooms;
  dmInvites: DmInvites;
  registry: VirtualUserRegistry;
  virtualUsers: VirtualUsers;
  localUsers: LocalUsers;
  party: PartyChannel;
  /** This node as its own domain's node (a call from a user here to an
   *  address here); the party channel pushes through it. */
  loopback: Loopback;
  discovery: NodeDiscovery;
  outbound: OutboundHttp;
  /** This node's signing keys: setups and forwarding hops are signed with them. */
  keys: NodeKeys;
  /** Decides what signatures prove about a caller. */
  callers: CallerCheck;
  /** Calls to rotas (NAME@domain); without it, no address is a rota. */
  rotas?: RotaSide;
  self: NodeIdentity;
  /** Wall-clock time (ms since the epoch): what rules and records are read against. */
  now: () => number;
  /** The clock neutral answers are timed on: the WebCall listener's
   *  `receivedAt` comes from the same one. */
  clock: MonotonicClock;
}

/** The pieces CallCore wraps into its two sides (./connectors.ts); the core
 *  itself never sees them. */
type SidePieces = "homeserver" | "users" | "rooms" | "dmInvites" | "registry" | "party" | "loopback" | "discovery" | "outbound";

/** What the call core itself works with: the two sides behind their
 *  interfaces (./ports.ts), the store, rules and this node's identity. */
export type Core = Omit<CallDeps, SidePieces> & {
  matrix: MatrixSide;
  party: PartySide;
};

/** The callee's own rules, as the call core consults them (src/rules/RulesService). */
export interface CalleeRules {
  decide(userId: MatrixUserId, facts: CallFacts): Promise<Decision>;
  get(userId: MatrixUserId): Promise<UserRules>;
}
