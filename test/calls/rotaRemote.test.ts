/**
 * A rota member on another node, rung by relay (docs/rotas.md, "Members on
 * other nodes"), against fakes of the two sides over the real store: the
 * caller keeps one session through every step; the member's node gets a
 * setup with this node in `via` and its hop in `chain`; the first answer
 * anywhere connects; a member who does not answer, declines or cannot
 * attend moves the call on; the caller's hangup reaches the member's node.
 */
import { RotaSide } from "../../src/calls/ports";
import { Address } from "../../src/ids/address";
import { MatrixUserId, RoomId } from "../../src/ids/matrix";
import { Escalation, Rota, RotaMember, RotaName, Rotation } from "../../src/model/rota";
import { Rule } from "../../src/model/rules";
import { SessionEvent, SessionEventBody, SetupRequest, SetupResponse } from "../../src/protocol/types";
import { anchorFor } from "../../src/rota/schedule";
import { SetupPost } from "../../src/webcall/setupClient";
import { ANSWER, Harness, OFFER, callEvent, startHarness, until } from "./fakeSides";

const ALICE = "@alice:example.org" as MatrixUserId;
const CAROL = "carol@hello.com" as Address;
const ROTA_ROOM = "!rota:example.org" as RoomId;
const CANDIDATE = { candidate: "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0 };

class FakeRotas implements RotaSide {
  readonly notices: { body: string; mentions: readonly MatrixUserId[] }[] = [];
  rota!: Rota;
  bridgeDefault = "ring" as const;
  bot = "@webcall:example.org" as MatrixUserId;
  async find(name: RotaName): Promise<Rota | undefined> {
    return name === this.rota.name ? this.rota : undefined;
  }
  async members(rota: Rota): Promise<RotaMember[]> {
    return rota.members ?? [];
  }
  async notice(_roomId: RoomId, body: string, mentions: readonly MatrixUserId[]): Promise<void> {
    this.notices.push({ body, mentions });
  }
  bodies(): string[] {
    return this.notices.map((n) => n.body);
  }
}

function rotaOf(members: RotaMember[], escalation: Escalation, rules: Rule[] = []): Rota {
  const rotation: Rotation = { every: "day", time: "09:00", zone: "UTC" };
  return {
    name: "on-call" as RotaName, roomId: ROTA_ROOM, members, rotation, anchor: anchorFor(rotation, Date.now()), overrides: [], escalation,
    rules: { userId: "@on-call:example.org" as MatrixUserId, rules, defaultAction: null, timeZone: null, notifyRefused: false, version: 0 },
    version: 1,
  };
}

describe("rota members on other nodes, rung by relay", () => {
  let h: Harness;
  let rotas: FakeRotas;
  let aliceRoom: string;
  let n = 0;
  const rc = { requestId: "r", receivedAt: 0 };

  beforeAll(async () => {
    rotas = new FakeRotas();
    h = await startHarness({ rotas });
    aliceRoom = h.matrix.joinedDm(ALICE, h.virtual).roomId;
    h.party.endpoints.set("hello.com", "https://hello.com/webcall");
    h.party.endpoints.set("other.org", "https://other.org/webcall");
  });
  afterAll(() => h.close());
  beforeEach(() => {
    rotas.notices.length = 0;
    h.party.setups.length = 0;
  });

  /** The member's node accepts every setup, keeping our token. */
  const accepting = async (post: SetupPost): Promise<SetupResponse> => ({ status: "success", sessionId: post.request.sessionId!, token: post.request.token! });

  async function call(): Promise<{ sessionId: string; token: string }> {
    const res = await h.core.setup({ calleeId: "on-call@example.org", callerId: "alf@employer.com", offer: OFFER, lifetime: 20_000 } as SetupRequest, rc);
    if (res.status !== "success") throw new Error("setup refused");
    return res;
  }
  const setupTo = (callee: string) => until(() => h.party.setups.find((s) => s.request.calleeId === callee), `a setup to ${callee}`);
  /** A session event from the member's node, on its attempt. */
  const fromNode = (post: SetupPost, event: SessionEventBody) =>
    h.core.deliver(post.request.sessionId!, post.request.token!, [{ id: `n${++n}`, ...event } as SessionEvent], rc);
  const inviteIn = (roomId: string, before: number) =>
    until(() => h.matrix.of("m.call.invite", roomId).slice(before)[0], `an invite in ${roomId}`);
  const session = (id: string) => h.store.getSession(id as never);

  test("the member on call is rung by relay and answers: the caller gets the answer and the node's candidates; hangups pass both ways", async () => {
    rotas.rota = rotaOf([{ kind: "address", address: CAROL }, { kind: "matrix", userId: ALICE }], { mode: "sequence", stepMs: 5_000, thenAll: false });
    h.party.answerSetup = accepting;
    const invitesBefore = h.matrix.of("m.call.invite", aliceRoom).length;
    const { sessionId, token } = await call();
    await h.core.deliver(sessionId, token, [{ id: "c1", type: "candidates", candidates: [CANDIDATE] }], rc);
    const post = await setupTo(CAROL);
    // Relayed as a forward is: this node in via, its signed hop in chain.
    expect(post.destination).toBe("hello.com");
    expect(post.endpoint).toBe("https://hello.com/webcall");
    expect(post.request).toMatchObject({ callerId: "alf@employer.com", offer: OFFER, via: ["example.org"], notify: "http://127.0.0.1:1/webcall" });
    expect(post.request.chain).toEqual([expect.objectContaining({ by: "example.org", from: "on-call@example.org", to: CAROL })]);
    expect(post.request.sessionId).not.toBe(sessionId);
    const attempt = await until(async () => (await session(post.request.sessionId!))?.state === "ringing" && session(post.request.sessionId!), "the attempt placed");
    expect(attempt).toMatchObject({ kind: "member_out", parent: sessionId, callee: CAROL });
    // The caller's candidates so far reach the node once it accepted.
    await until(() => h.party.of(post.request.sessionId!, "candidates").length > 0, "the caller's candidates at the node");
    await fromNode(post, { type: "candidates", candidates: [CANDIDATE] });
    expect(h.party.of(sessionId, "candidates")).toHaveLength(0);
    await fromNode(post, { type: "answer", answer: ANSWER });
    expect(h.party.of(sessionId, "answer")).toEqual([{ type: "answer", answer: ANSWER }]);
    expect(h.party.of(sessionId, "candidates")).toEqual([{ type: "candidates", candidates: [CANDIDATE] }]);
    expect((await session(sessionId))?.state).toBe("connected");
    // alice's step never came: her leg ends without a ring.
    expect(h.matrix.of("m.call.invite", aliceRoom).length).toBe(invitesBefore);
    expect((await h.store.legsOf(sessionId as never)).map((l) => [l.state, l.endReason])).toEqual([["ended", "answered_elsewhere"]]);
    await until(() => rotas.bodies().length >= 2, "two notices");
    expect(rotas.bodies()).toEqual(["Call from alf@employer.com (not verified) — ringing carol@hello.com (on call)", "Answered by carol@hello.com after 0 s"]);
    expect(rotas.notices[0]!.mentions).toEqual([]);
    // The caller's candidates after the answer go to the node; then the caller hangs up.
    await h.core.deliver(sessionId, token, [{ id: "c2", type: "candidates", candidates: [CANDIDATE] }], rc);
    expect(h.party.of(post.request.sessionId!, "candidates").length).toBe(2);
    await h.core.deliver(sessionId, token, [{ id: "h1", type: "hangup", reason: "user_hangup" }], rc);
    await until(() => h.party.of(post.request.sessionId!, "hangup").length > 0, "the node told of the hangup");
    expect(h.party.of(post.request.sessionId!, "hangup")).toEqual([{ type: "hangup", reason: "user_hangup" }]);
    expect((await session(post.request.sessionId!))?.state).toBe("ended");
  });

  test("the member does not answer in their step: the node is told invite_timeout and the next member rings, then answers", async () => {
    rotas.rota = rotaOf([{ kind: "address", address: CAROL }, { kind: "matrix", userId: ALICE }], { mode: "sequence", stepMs: 300, thenAll: false });
    h.party.answerSetup = accepting;
    const before = h.matrix.of("m.call.invite", aliceRoom).length;
    const { sessionId, token } = await call();
    const post = await setupTo(CAROL);
    const invite = await inviteIn(aliceRoom, before);
    expect(h.party.of(post.request.sessionId!, "hangup")).toEqual([{ type: "hangup", reason: "invite_timeout" }]);
    await until(() => rotas.bodies().length >= 2, "the escalation notice");
    expect(rotas.bodies()[1]).toBe("carol@hello.com did not answer in 0 s — ringing @alice:example.org");
    expect(rotas.notices[1]!.mentions).toEqual([ALICE]);
    // The node's answer after its step is over is too late.
    await expect(fromNode(post, { type: "answer", answer: ANSWER })).rejects.toThrow(/over/);
    await h.core.onMatrixEvent(callEvent("m.call.answer", { roomId: aliceRoom, sender: ALICE, callId: invite.content.call_id, partyId: "D", answer: ANSWER }), Date.now());
    expect((await session(sessionId))?.state).toBe("connected");
    expect(h.party.of(sessionId, "answer")).toHaveLength(1);
    await h.core.deliver(sessionId, token, [{ id: "h0", type: "hangup", reason: "user_hangup" }], rc);
  });

  test("the member's node cannot attend, or the member declines: the next step rings at once", async () => {
    rotas.rota = rotaOf([{ kind: "address", address: CAROL }, { kind: "matrix", userId: ALICE }], { mode: "sequence", stepMs: 60_000, thenAll: false });
    h.party.answerSetup = async () => ({ status: "could_not_attend" });
    let before = h.matrix.of("m.call.invite", aliceRoom).length;
    const first = await call();
    await inviteIn(aliceRoom, before);
    await h.core.deliver(first.sessionId, first.token, [{ id: "h2", type: "hangup", reason: "user_hangup" }], rc);

    rotas.notices.length = 0;
    h.party.setups.length = 0;
    h.party.answerSetup = accepting;
    before = h.matrix.of("m.call.invite", aliceRoom).length;
    const second = await call();
    const post = await setupTo(CAROL);
    await until(async () => (await session(post.request.sessionId!))?.state === "ringing", "the attempt placed");
    await fromNode(post, { type: "hangup", reason: "user_hangup" });
    await inviteIn(aliceRoom, before);
    await until(() => rotas.bodies().length >= 2, "the escalation notice");
    expect(rotas.bodies()[1]).toBe("carol@hello.com declined — ringing @alice:example.org");
    await h.core.deliver(second.sessionId, second.token, [{ id: "h5", type: "hangup", reason: "user_hangup" }], rc);
  });

  test("ring all: a Matrix member's answer hangs the member's node up as answered elsewhere", async () => {
    rotas.rota = rotaOf([{ kind: "matrix", userId: ALICE }, { kind: "address", address: CAROL }], { mode: "all" });
    h.party.answerSetup = accepting;
    const before = h.matrix.of("m.call.invite", aliceRoom).length;
    const { sessionId, token } = await call();
    const [invite, post] = await Promise.all([inviteIn(aliceRoom, before), setupTo(CAROL)]);
    await until(async () => (await session(post.request.sessionId!))?.state === "ringing", "the attempt placed");
    await until(() => rotas.bodies().length >= 1, "the first notice");
    expect(rotas.bodies()[0]).toBe("Call from alf@employer.com (not verified) — ringing @alice:example.org (on call), carol@hello.com");
    await h.core.onMatrixEvent(callEvent("m.call.answer", { roomId: aliceRoom, sender: ALICE, callId: invite.content.call_id, partyId: "D", answer: ANSWER }), Date.now());
    await until(() => h.party.of(post.request.sessionId!, "hangup").length > 0, "the node told");
    expect(h.party.of(post.request.sessionId!, "hangup")).toEqual([{ type: "hangup", reason: "answered_elsewhere" }]);
    expect((await session(sessionId))?.state).toBe("connected");
    await h.core.deliver(sessionId, token, [{ id: "h4", type: "hangup", reason: "user_hangup" }], rc);
  });

  test("the caller hangs up while the member rings: the member's node is told", async () => {
    rotas.rota = rotaOf([{ kind: "address", address: CAROL }], { mode: "sequence", stepMs: 60_000, thenAll: false });
    h.party.answerSetup = accepting;
    const { sessionId, token } = await call();
    const post = await setupTo(CAROL);
    await until(async () => (await session(post.request.sessionId!))?.state === "ringing", "the attempt placed");
    await h.core.deliver(sessionId, token, [{ id: "h3", type: "hangup", reason: "user_hangup" }], rc);
    await until(() => h.party.of(post.request.sessionId!, "hangup").length > 0, "the node told");
    expect(h.party.of(post.request.sessionId!, "hangup")).toEqual([{ type: "hangup", reason: "user_hangup" }]);
    await until(() => rotas.bodies().length >= 2, "the notice");
    expect(rotas.bodies()[1]).toMatch(/^Caller hung up after \d+ s$/);
  });

  test("nobody answers: the last member's timeout leaves the caller could_not_attend", async () => {
    rotas.rota = rotaOf([{ kind: "address", address: CAROL }], { mode: "sequence", stepMs: 200, thenAll: false });
    h.party.answerSetup = accepting;
    const { sessionId } = await call();
    await until(() => h.party.of(sessionId, "hangup").length > 0, "the caller told");
    expect(h.party.of(sessionId, "hangup")).toEqual([{ type: "hangup", reason: "could_not_attend" }]);
    await until(() => rotas.bodies().length >= 2, "the missed notice");
    expect(rotas.bodies()[1]).toBe("Missed: nobody answered (1 tried)");
  });

  test("a member who answered hangs up: the caller is told", async () => {
    rotas.rota = rotaOf([{ kind: "address", address: CAROL }], { mode: "all" });
    h.party.answerSetup = accepting;
    const { sessionId } = await call();
    const post = await setupTo(CAROL);
    await until(async () => (await session(post.request.sessionId!))?.state === "ringing", "the attempt placed");
    await fromNode(post, { type: "answer", answer: ANSWER });
    await fromNode(post, { type: "hangup", reason: "user_hangup" });
    expect(h.party.of(sessionId, "hangup")).toEqual([{ type: "hangup", reason: "user_hangup" }]);
    expect((await session(sessionId))?.state).toBe("ended");
  });

  test("the rota's rules forward to another node: the call is relayed there, with this node's hop", async () => {
    rotas.rota = rotaOf([{ kind: "matrix", userId: ALICE }], { mode: "all" },
      [{ action: "forward", forwardTo: "bob@other.org" }]);
    h.party.answerSetup = accepting;
    const res = await call();
    const post = await setupTo("bob@other.org");
    expect(post.request.via).toEqual(["example.org"]);
    expect(post.request.chain).toEqual([expect.objectContaining({ by: "example.org", from: "on-call@example.org", to: "bob@other.org" })]);
    expect((await session(res.sessionId))?.kind).toBe("relay_in");
    await fromNode(post, { type: "answer", answer: ANSWER });
    expect(h.party.of(res.sessionId, "answer")).toEqual([{ type: "answer", answer: ANSWER }]);
  });

  test("the member answers before their node's setup answer is handled: the call connects and the node is not hung up", async () => {
    rotas.rota = rotaOf([{ kind: "address", address: CAROL }], { mode: "all" });
    let accept!: () => void;
    h.party.answerSetup = (post) => new Promise((resolve) => { accept = () => resolve({ status: "success", sessionId: post.request.sessionId!, token: post.request.token! }); });
    const { sessionId, token } = await call();
    const post = await setupTo(CAROL);
    await fromNode(post, { type: "answer", answer: ANSWER });
    expect(h.party.of(sessionId, "answer")).toEqual([{ type: "answer", answer: ANSWER }]);
    accept();
    await h.core.deliver(sessionId, token, [{ id: "c9", type: "candidates", candidates: [CANDIDATE] }], rc);
    await until(() => h.party.of(post.request.sessionId!, "candidates").length > 0, "the caller's candidates at the node");
    expect(h.party.of(post.request.sessionId!, "hangup")).toEqual([]);
    expect((await session(post.request.sessionId!))?.state).toBe("connected");
    await h.core.deliver(sessionId, token, [{ id: "h9", type: "hangup", reason: "user_hangup" }], rc);
    await until(() => h.party.of(post.request.sessionId!, "hangup").length > 0, "the node told of the hangup");
  });

  test("after a restart, a member still ringing gets a fresh step, then the call moves on; the caller's hangup reaches the next member", async () => {
    rotas.rota = rotaOf([{ kind: "address", address: CAROL }, { kind: "matrix", userId: ALICE }], { mode: "sequence", stepMs: 400, thenAll: false });
    h.party.answerSetup = accepting;
    const before = h.matrix.of("m.call.invite", aliceRoom).length;
    const { sessionId, token } = await call();
    const post = await setupTo(CAROL);
    await until(async () => (await session(post.request.sessionId!))?.state === "ringing", "the attempt placed");
    await h.core.stop();
    const core = h.core = await h.restart();
    await inviteIn(aliceRoom, before);
    expect(h.party.of(post.request.sessionId!, "hangup")).toEqual([{ type: "hangup", reason: "invite_timeout" }]);
    await core.deliver(sessionId, token, [{ id: "h10", type: "hangup", reason: "user_hangup" }], rc);
    expect((await session(sessionId))?.state).toBe("ended");
  });

  test("a restart while a Matrix member's step rings: the member on another node in the next step is rung when that step ends, and answers", async () => {
    rotas.rota = rotaOf([{ kind: "matrix", userId: ALICE }, { kind: "address", address: CAROL }], { mode: "sequence", stepMs: 600, thenAll: false });
    h.party.answerSetup = accepting;
    const before = h.matrix.of("m.call.invite", aliceRoom).length;
    const { sessionId } = await call();
    await inviteIn(aliceRoom, before);
    // The plan is stored with the session: the member and their step, and the chain that proved the caller.
    expect((await session(sessionId)) as unknown).toMatchObject({ rota: { remote: [{ address: CAROL, step: 1 }], chain: [] } });
    await h.core.stop();
    expect(h.party.setups).toEqual([]);
    h.core = await h.restart();
    const post = await setupTo(CAROL);
    // Only once alice's step ran out (what was left of it after the restart).
    const [leg] = await h.store.legsOf(sessionId as never);
    expect([leg!.state, leg!.endReason]).toEqual(["ended", "invite_timeout"]);
    expect(post.request.chain).toEqual([expect.objectContaining({ by: "example.org", from: "on-call@example.org", to: CAROL })]);
    await until(async () => (await session(post.request.sessionId!))?.state === "ringing", "the attempt placed");
    await fromNode(post, { type: "answer", answer: ANSWER });
    expect(h.party.of(sessionId, "answer")).toEqual([{ type: "answer", answer: ANSWER }]);
    expect((await session(sessionId))?.state).toBe("connected");
    expect(h.party.setups.filter((s) => s.request.calleeId === CAROL)).toHaveLength(1);
    await until(() => rotas.bodies().length >= 3, "three notices");
    expect(rotas.bodies().slice(1)).toEqual(["@alice:example.org did not answer in 1 s — ringing carol@hello.com", expect.stringMatching(/^Answered by carol@hello\.com after \d+ s$/)]);
  });

  test("a Matrix member's step that ended while the bridge was down: the member on another node rings at once; their decline is told by address", async () => {
    const DAVE = "dave@other.org" as Address;
    rotas.rota = rotaOf([{ kind: "matrix", userId: ALICE }, { kind: "address", address: CAROL }, { kind: "address", address: DAVE }],
      { mode: "sequence", stepMs: 300, thenAll: false });
    h.party.answerSetup = accepting;
    const before = h.matrix.of("m.call.invite", aliceRoom).length;
    const { sessionId } = await call();
    await inviteIn(aliceRoom, before);
    await h.core.stop();
    // Downtime longer than alice's step.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(h.party.setups).toEqual([]);
    h.core = await h.restart();
    const carol = await setupTo(CAROL);
    expect(h.matrix.of("m.call.invite", aliceRoom).length).toBe(before + 1);
    await until(async () => (await session(carol.request.sessionId!))?.state === "ringing", "carol's attempt placed");
    await fromNode(carol, { type: "hangup", reason: "user_hangup" });
    const dave = await setupTo(DAVE);
    expect(dave.request.chain).toEqual([expect.objectContaining({ by: "example.org", to: DAVE })]);
    expect(h.party.setups.filter((s) => s.request.calleeId === CAROL)).toHaveLength(1);
    await until(() => rotas.bodies().some((b) => b === "carol@hello.com declined — ringing dave@other.org"), "the escalation to dave, naming carol");
    await until(async () => (await session(dave.request.sessionId!))?.state === "ringing", "dave's attempt placed");
    await fromNode(dave, { type: "hangup", reason: "user_hangup" });
    await until(async () => (await session(sessionId))?.state === "ended", "the call over");
    await until(() => rotas.bodies().some((b) => b.startsWith("Missed")), "the missed notice");
    expect(rotas.bodies().find((b) => b.startsWith("Missed"))).toBe("Missed: nobody answered (3 tried)");
  });
});
