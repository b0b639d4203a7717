import { parseAddress } from "../../src/ids/address";
import { setLogLevel } from "../../src/log";
import { Authority } from "../../src/signing/Authority";
import { UNVERIFIED } from "../../src/model/callerIdentity";
import { CallerCheck, CheckedCaller } from "../../src/signing/CallerCheck";
import { extendChain, hopText, PLACED } from "../../src/signing/chain";
import { NodeKeys } from "../../src/signing/NodeKeys";
import { MAX_SKEW_MS } from "../../src/signing/RequestVerifier";
import { Hop } from "../../src/protocol/types";
import { ManualClock, NodeSigning, openNodes } from "./nodeSigning";

setLogLevel("error");

const clock = new ManualClock();
/** The callee's node, whose CallerCheck is under test. */
let home: NodeSigning;
/** The caller's node; it also serves employer.net (configured to the same endpoint). */
let employer: NodeSigning;
/** A node that forwards calls for its users (bob@alpha.test). */
let alpha: NodeSigning;
/** A node with good keys of its own that lies about others' callers. */
let evil: NodeSigning;

beforeAll(async () => {
  [home, employer, alpha, evil] = await openNodes(["home.org", "employer.com", "alpha.test", "evil.example"], { now: clock.now });
  const all = [home, employer, alpha, evil];
  const endpoints = await Promise.all(all.map((n) => n.listen()));
  const map: Record<string, string> = { "employer.net": endpoints[1]! };
  all.forEach((n, i) => { map[n.domain] = endpoints[i]!; });
  for (const n of all) Object.assign(n.nodes, map);
});

afterAll(async () => {
  await Promise.all([home, employer, alpha, evil].map((n) => n?.close()));
});

const ALF = "alf@employer.com", BOB = "bob@alpha.test", ALICE = "alice@home.org";

interface Claim { caller?: string | null; callee?: string; signer: string | undefined; chain?: Hop[] }

function identify(claim: Claim, callers: CallerCheck = home.callers): Promise<CheckedCaller> {
  const caller = claim.caller === undefined ? ALF : claim.caller;
  return callers.identify({
    caller: caller === null ? null : parseAddress(caller), callee: parseAddress(claim.callee ?? ALICE), signer: claim.signer, chain: claim.chain,
  });
}

/** employer.com places alf's call to bob@alpha.test. */
function placed(over: { from?: string; to?: string; ts?: number } = {}): Hop[] {
  return extendChain(employer.keys, [], { from: over.from ?? ALF, to: over.to ?? BOB, reason: PLACED, ts: over.ts ?? clock.t });
}

/** alpha.test forwards bob's call on to alice@home.org. */
function forwarded(prior: Hop[], over: { from?: string; to?: string; ts?: number; reason?: string } = {}): Hop[] {
  return extendChain(alpha.keys, prior, { from: over.from ?? BOB, to: over.to ?? ALICE, reason: over.reason ?? "work hours rule", ts: over.ts ?? clock.t });
}

/** A hop claiming to be by `by`, signed with `signer`'s key. */
function hopSignedBy(signer: NodeKeys, prior: Hop[], step: Omit<Hop, "key" | "sig">, keyId?: string): Hop[] {
  const { key, sig } = signer.sign(hopText(step, prior));
  return [...prior, { ...step, key: keyId ?? key, sig }];
}

function good(): Hop[] {
  return forwarded(placed());
}

const verifiedBy = (by: string, forwards: { by: string; reason: string }[] = []) => ({ verified: true, verifiedBy: by, forwards });

async function expectUnverified(claim: Claim): Promise<void> {
  expect(await identify(claim)).toEqual({ identity: UNVERIFIED, chain: [] });
}

describe("CallerCheck: directly", () => {
  it("the caller's own node signed the setup: verified by it", async () => {
    expect(await identify({ signer: "employer.com" })).toEqual({ identity: verifiedBy("employer.com"), chain: [] });
    expect(await identify({ signer: "employer.com", chain: [] })).toEqual({ identity: verifiedBy("employer.com"), chain: [] });
    expect(await identify({ caller: "Alf@EMPLOYER.com", signer: "employer.com" })).toEqual({ identity: verifiedBy("employer.com"), chain: [] });
  });

  it("the node that serves the caller's domain (the same endpoint) signed it: verified by it", async () => {
    expect(await identify({ caller: "boss@employer.net", signer: "employer.com" })).toEqual({ identity: verifiedBy("employer.com"), chain: [] });
  });

  it("another node signed it: a spoof, unverified", async () => {
    await expectUnverified({ caller: "boss@employer.com", signer: "evil.example" });
    await expectUnverified({ caller: "boss@employer.net", signer: "evil.example" });
    await expectUnverified({ caller: "boss@employer.com", signer: "alpha.test" });
    // employer.com does not speak for evil.example's users either.
    await expectUnverified({ caller: "mallory@evil.example", signer: "employer.com" });
  });

  it("unsigned (or uncheckable): unverified, whatever the chain says", async () => {
    await expectUnverified({ signer: undefined });
    await expectUnverified({ signer: undefined, chain: good() });
  });

  it("an anonymous caller is never verified", async () => {
    expect(await identify({ caller: null, signer: "employer.com" })).toEqual({ identity: { verified: false, forwards: [] }, chain: [] });
    const chain = good();
    const checked = await identify({ caller: null, signer: "alpha.test", chain });
    expect(checked.identity.verified).toBe(false);
    expect(checked.identity.verifiedBy).toBeUndefined();
    // The placing hop is not a forward, even when it does not prove this caller.
    expect(checked.identity.forwards).toEqual([{ by: "alpha.test", reason: "work hours rule" }]);
    await expectUnverified({ caller: null, signer: undefined, chain });
  });
});

describe("CallerCheck: through the forwarding chain", () => {
  it("placed by employer.com, forwarded by alpha.test, signed by alpha.test: verified by employer.com", async () => {
    const chain = good();
    expect(await identify({ signer: "alpha.test", chain })).toEqual({
      identity: verifiedBy("employer.com", [{ by: "alpha.test", reason: "work hours rule" }]), chain,
    });
  });

  it("a chain of the placed hop alone, signed by the caller's node", async () => {
    const chain = placed({ to: ALICE });
    expect(await identify({ signer: "employer.com", chain })).toEqual({ identity: verifiedBy("employer.com"), chain });
  });

  it("three hops, one of them by a node serving its user's domain through the same endpoint", async () => {
    // employer.com places alf's call to carol@employer.net; employer.com (serving employer.net)
    // forwards it to bob@alpha.test; alpha.test forwards it to alice.
    const one = placed({ to: "carol@employer.net" });
    const two = extendChain(employer.keys, one, { from: "carol@employer.net", to: BOB, reason: "out of office", ts: clock.t });
    const chain = forwarded(two);
    expect(await identify({ signer: "alpha.test", chain })).toEqual({
      identity: verifiedBy("employer.com", [{ by: "employer.com", reason: "out of office" }, { by: "alpha.test", reason: "work hours rule" }]), chain,
    });
  });

  it("addresses compare with their domains case-insensitively, and by is lower-cased", async () => {
    const one = placed({ to: "bob@ALPHA.Test" });
    const chain = hopSignedBy(alpha.keys, one, { by: "Alpha.TEST", from: BOB, to: "alice@Home.ORG", reason: "r", ts: clock.t });
    expect(await identify({ caller: "alf@Employer.com", signer: "alpha.test", chain })).toEqual({
      identity: verifiedBy("employer.com", [{ by: "alpha.test", reason: "r" }]), chain,
    });
  });

  it("a chain that holds but does not start at the caller only shows the forwards; the signer must vouch directly", async () => {
    const chain = forwarded([], { from: BOB });
    expect(await identify({ signer: "alpha.test", chain })).toEqual({
      identity: { verified: false, forwards: [{ by: "alpha.test", reason: "work hours rule" }] }, chain,
    });
    expect(await identify({ caller: "carol@alpha.test", signer: "alpha.test", chain })).toEqual({
      identity: verifiedBy("alpha.test", [{ by: "alpha.test", reason: "work hours rule" }]), chain,
    });
  });

  it("hops just inside the time window hold", async () => {
    const chain = forwarded(placed({ ts: clock.t - 15 * 60_000 }), { ts: clock.t + MAX_SKEW_MS });
    expect((await identify({ signer: "alpha.test", chain })).identity.verified).toBe(true);
  });
});

describe("CallerCheck: a chain that does not hold proves nothing", () => {
  it("a forged hop: signed with a key its by does not publish", async () => {
    clock.advance(1000); // home may ask the nodes for their keys again at once
    // employer.com's placing hop, forged by evil.example, then alpha.test's genuine forward.
    const step = { by: "employer.com", from: ALF, to: BOB, reason: PLACED, ts: clock.t };
    await expectUnverified({ signer: "alpha.test", chain: forwarded(hopSignedBy(evil.keys, [], step)) });
    // ...or naming employer.com's key, but signed by another.
    await expectUnverified({ signer: "alpha.test", chain: forwarded(hopSignedBy(evil.keys, [], step, employer.keys.keyId)) });
    // alpha.test's forward forged by evil.example, which signs the request: still nothing.
    const forward = { by: "alpha.test", from: BOB, to: ALICE, reason: "work hours rule", ts: clock.t };
    await expectUnverified({ signer: "evil.example", chain: hopSignedBy(evil.keys, placed(), forward, alpha.keys.keyId) });
  });

  it("a hop by the node that signed the request is taken on the request's signature", async () => {
    // The request's signature covers the whole body; the hop's own signature is for the nodes further on.
    const [one, two] = good() as [Hop, Hop];
    for (const chain of [[one, { ...two, reason: "no reason" }], [one, { ...two, ts: two.ts + 1 }], [one, { ...two, key: employer.keys.keyId }]]) {
      expect((await identify({ signer: "alpha.test", chain })).identity.verified).toBe(true);
    }
  });

  it("a forged first hop: evil.example claims employer.com placed the call", async () => {
    clock.advance(1000);
    const step = { by: "employer.com", from: ALF, to: "x@evil.example", reason: PLACED, ts: clock.t };
    const one = hopSignedBy(evil.keys, [], step);
    const chain = extendChain(evil.keys, one, { from: "x@evil.example", to: ALICE, reason: "r", ts: clock.t });
    await expectUnverified({ signer: "evil.example", chain });
  });

  it("an altered hop: reason, from, to, ts or by changed after signing", async () => {
    clock.advance(1000); // one case names a key alpha.test does not have: let home ask again at once
    const [one, two] = good() as [Hop, Hop];
    for (const altered of [
      [one, { ...two, to: "eve@home.org" }],
      [{ ...one, reason: "out of office" }, two], [{ ...one, from: "boss@employer.com" }, two], [{ ...one, ts: one.ts - 1 }, two],
      [one, { ...two, by: "employer.com" }],
    ]) await expectUnverified({ signer: "alpha.test", chain: altered });
    // The caller claims to be someone else than the chain says: verified only directly, which alpha.test cannot do.
    expect((await identify({ caller: "boss@employer.com", signer: "alpha.test", chain: [one, two] })).identity.verified).toBe(false);
  });

  it("a dropped hop", async () => {
    const [, two] = good() as [Hop, Hop];
    expect((await identify({ signer: "alpha.test", chain: [two] })).identity.verified).toBe(false);
    // Three hops, the middle one dropped (the chain still connects: the signatures do not).
    const a = placed({ to: BOB });
    const b = extendChain(alpha.keys, a, { from: BOB, to: BOB, reason: "self", ts: clock.t });
    const c = extendChain(alpha.keys, b, { from: BOB, to: ALICE, reason: "again", ts: clock.t });
    expect((await identify({ signer: "alpha.test", chain: c })).identity.verified).toBe(true);
    // The placing hop dropped: the chain no longer starts at the caller.
    expect((await identify({ signer: "alpha.test", chain: [c[1]!, c[2]!] })).identity.verified).toBe(false);
  });

  it("reordered hops", async () => {
    const [one, two] = good() as [Hop, Hop];
    await expectUnverified({ signer: "alpha.test", chain: [two, one] });
    await expectUnverified({ signer: "employer.com", chain: [two, one] });
  });

  it("a hop by a node that does not serve its from", async () => {
    // evil.example forwards bob@alpha.test's call: it cannot vouch for where calls to bob go.
    const chain = extendChain(evil.keys, placed(), { from: BOB, to: ALICE, reason: "hijacked", ts: clock.t });
    await expectUnverified({ signer: "evil.example", chain });
    // evil.example places a call "from" boss@employer.com.
    await expectUnverified({ caller: "boss@employer.com", signer: "evil.example",
      chain: extendChain(evil.keys, [], { from: "boss@employer.com", to: ALICE, reason: PLACED, ts: clock.t }) });
  });

  it("a hop that does not continue the one before", async () => {
    const chain = forwarded(placed({ to: "carol@alpha.test" }));
    await expectUnverified({ signer: "alpha.test", chain });
  });

  it("a last hop that does not reach this callee (a chain replayed to another callee)", async () => {
    const chain = good();
    await expectUnverified({ callee: "eve@home.org", signer: "alpha.test", chain });
    await expectUnverified({ callee: "alice@elsewhere.org", signer: "alpha.test", chain });
  });

  it("a last hop not by the node that signed the request", async () => {
    const chain = good();
    await expectUnverified({ signer: "evil.example", chain });
    // Not even the caller's own node: the chain must end at the signer, or it proves nothing.
    await expectUnverified({ signer: "employer.com", chain });
  });

  it("a stale hop, or one from the future", async () => {
    await expectUnverified({ signer: "alpha.test", chain: forwarded(placed({ ts: clock.t - 15 * 60_000 - 1 })) });
    await expectUnverified({ signer: "alpha.test", chain: forwarded(placed({ ts: clock.t - 60 * 60_000 })) });
    await expectUnverified({ signer: "alpha.test", chain: forwarded(placed(), { ts: clock.t + MAX_SKEW_MS + 1 }) });
    // A chain that held, checked again 15 minutes later.
    const chain = good();
    expect((await identify({ signer: "alpha.test", chain })).identity.verified).toBe(true);
    const later = new CallerCheck(home.keyring, new Authority(home.discovery), () => clock.t + 15 * 60_000 + 1);
    expect(await identify({ signer: "alpha.test", chain }, later)).toEqual({ identity: UNVERIFIED, chain: [] });
  });

  it("a hop whose from is not an address", async () => {
    const chain = forwarded([], { from: "bob" });
    await expectUnverified({ caller: "carol@alpha.test", signer: "alpha.test", chain });
    // The same hop from a real address holds.
    expect((await identify({ caller: "carol@alpha.test", signer: "alpha.test", chain: forwarded([]) })).identity.verified).toBe(true);
  });

  it("a broken chain overrides what the signature alone would prove", async () => {
    // employer.com signs alf's setup (verified directly without a chain), but sends a broken chain.
    const [one] = placed({ to: ALICE }) as [Hop];
    await expectUnverified({ signer: "employer.com", chain: [{ ...one, to: "eve@home.org" }] });
  });

  it("a hop by a node whose keys cannot be fetched", async () => {
    home.nodes["down.example"] = "http://127.0.0.1:1/webcall";
    // (down.example does not serve alpha.test's users either, but the key check comes first.)
    const chain = hopSignedBy(evil.keys, placed(), { by: "down.example", from: BOB, to: ALICE, reason: "r", ts: clock.t });
    await expectUnverified({ signer: "down.example", chain });
  });
});

describe("CallerCheck: key rotation mid-call", () => {
  it("a hop signed before its node rotated still holds after it", async () => {
    const chain = good();
    expect((await identify({ signer: "alpha.test", chain })).identity.verified).toBe(true);
    clock.advance(1000);
    await alpha.keys.rotate();
    clock.advance(1000);
    // home learns alpha.test's new key (asked about by a new hop), and keeps checking the old one.
    const fresh = forwarded(placed());
    expect(fresh[1]!.key).not.toBe(chain[1]!.key);
    expect((await identify({ signer: "alpha.test", chain: fresh })).identity.verified).toBe(true);
    expect((await identify({ signer: "alpha.test", chain })).identity.verified).toBe(true);
  });
});

describe("Authority", () => {
  it("a node speaks for its own domain, and for domains configured to its endpoint", async () => {
    const authority = new Authority(home.discovery);
    expect(await authority.speaksFor("employer.com", "employer.com")).toBe(true);
    expect(await authority.speaksFor("employer.com", "employer.net")).toBe(true);
    expect(await authority.speaksFor("employer.net", "employer.com")).toBe(true);
    expect(await authority.speaksFor("evil.example", "employer.com")).toBe(false);
    expect(await authority.speaksFor("employer.com", "evil.example")).toBe(false);
    expect(await authority.speaksFor("alpha.test", "home.org")).toBe(false);
  });

  it("endpoints that differ only by a trailing slash are the same node", async () => {
    home.nodes["employer.org"] = `${home.nodes["employer.com"]!}/`;
    const authority = new Authority(home.discovery);
    expect(await authority.speaksFor("employer.com", "employer.org")).toBe(true);
    expect((await identify({ caller: "boss@employer.org", signer: "employer.com" })).identity).toEqual(verifiedBy("employer.com"));
  });
});
