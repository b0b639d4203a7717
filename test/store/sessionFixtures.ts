import { Address } from "../../src/ids/address";
import { MatrixUserId, RoomId } from "../../src/ids/matrix";
import { newPartyId, newSessionId, SessionId } from "../../src/ids/session";
import { Leg, LegId, newLeg } from "../../src/model/leg";
import {
  InboundSession, MemberOutSession, OutboundSession, RelayInSession, RelayOutSession, inboundSession, lifetime, memberOutSession,
  outboundSession, relayInSession, relayOutSession,
} from "../../src/model/session";

/** Sessions and legs as the call core makes them, for store tests. */

export const user = (id: string) => id as MatrixUserId;
export const room = (id: string) => id as RoomId;
export const unique = () => newPartyId().replace(/[^A-Za-z0-9]/g, "x");
const ALF = "alf@employer.com" as Address;
const ALICE = "alice@example.org" as Address;
const VIRTUAL = user("@webcall_alf=40employer.com:example.org");
const OFFER = { type: "offer" as const, sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n" };

let clock = Date.now();
/** Distinct and increasing, beyond int4 range. */
export const tick = () => ++clock;

export function inbound(overrides: Partial<InboundSession> = {}): InboundSession {
  const id = newSessionId();
  return {
    ...inboundSession({
      id, virtualUserId: VIRTUAL, caller: ALF, callee: ALICE, offer: OFFER, ...lifetime(tick(), 90_000),
      via: ["employer.com", "relay.example.net"], ring: { mode: "sequence", stepMs: 20_000 }, identity: { verified: true, verifiedBy: "employer.com", forwards: [] },
      party: { tokenHash: "ab".repeat(32), delivery: { mode: "push", notifyUrl: "https://node.example.net/webcall", token: "secret-token", peerNode: "employer.com" } },
      setup: { fingerprint: "f".repeat(64), response: { sessionId: id, nested: { list: [1, "two", { three: true }], empty: {} } } },
    }),
    ...overrides,
  };
}

export function outbound(overrides: Partial<OutboundSession> = {}): OutboundSession {
  return {
    ...outboundSession({
      id: newSessionId(), virtualUserId: VIRTUAL, caller: ALICE, callee: ALF, offer: OFFER, ...lifetime(tick(), 60_000), via: [], party: null,
    }),
    ...overrides,
  };
}

export function relayPair(): [RelayInSession, RelayOutSession] {
  const inId = newSessionId(), outId = newSessionId();
  const common = { virtualUserId: VIRTUAL, caller: ALF, offer: OFFER, ...lifetime(tick(), 60_000), via: ["employer.com"], forwardedBy: user("@alice:example.org") };
  return [
    relayInSession({ ...common, id: inId, callee: ALICE, peer: outId, identity: { verified: false, forwards: [] },
      party: { tokenHash: "cd".repeat(32), delivery: { mode: "pull" } }, setup: { fingerprint: "e".repeat(64), response: null } }),
    relayOutSession({ ...common, id: outId, callee: "bob@next.example" as Address, peer: inId,
      party: { tokenHash: "ef".repeat(32), delivery: { mode: "push", notifyUrl: "https://next.example/webcall", token: "next-token", peerNode: "next.example" } } }),
  ];
}

/** A rota call's attempt at a member on another node, linked to `parent`. */
export function memberOut(parent: SessionId): MemberOutSession {
  return memberOutSession({
    id: newSessionId(), virtualUserId: VIRTUAL, caller: ALF, callee: "carol@hello.example" as Address, offer: OFFER, ...lifetime(tick(), 60_000),
    via: ["employer.com"], parent,
    party: { tokenHash: "9a".repeat(32), delivery: { mode: "push", notifyUrl: "https://hello.example/webcall", token: "member-token", peerNode: "hello.example" } },
  });
}

export function legOf(sessionId: SessionId, position = 0, overrides: Partial<Leg> = {}): Leg {
  return {
    ...newLeg({
      callId: (position === 0 ? sessionId : `${sessionId}.${position}`) as string as LegId, sessionId, position, state: "ringing",
      matrixUserId: user(`@user${position}:example.org`), virtualUserId: VIRTUAL, roomId: room(`!${unique()}:example.org`),
      bridgePartyId: newPartyId(), matrixPartyId: null, matrixVersion: "1",
    }),
    ...overrides,
  };
}
