import { DomainError } from "../../src/errors/DomainError";
import { statusOf } from "../../src/errors/httpAnswer";
import { setLogLevel } from "../../src/log";
import { fromBase64, toBase64 } from "../../src/signing/ed25519";
import { formatSignatureHeader, parseSignatureHeader, SignatureHeader, SIGNATURE_HEADER } from "../../src/signing/requestSignature";
import { IncomingRequest, MAX_SKEW_MS, RequestVerifier } from "../../src/signing/RequestVerifier";
import { ManualClock, NodeSigning, openNodes } from "./nodeSigning";

setLogLevel("error");

const clock = new ManualClock();
/** The receiving node, with a real listener. */
let home: NodeSigning;
let homeEndpoint: string;
/** The signing node; its keys are published by its own real listener. */
let employer: NodeSigning;

beforeAll(async () => {
  [home, employer] = await openNodes(["home.org", "employer.com"], { now: clock.now });
  const [homeAt, employerAt] = await Promise.all([home.listen(), employer.listen()]);
  homeEndpoint = homeAt;
  Object.assign(home.nodes, { "employer.com": employerAt, "down.example": "http://127.0.0.1:1/webcall" });
  Object.assign(employer.nodes, { "home.org": homeAt });
});

afterAll(async () => {
  await Promise.all([home?.close(), employer?.close()]);
});

const SETUP = { calleeId: "alice@home.org", callerId: "alf@employer.com", offer: { type: "offer", sdp: "v=0\r\n" }, via: ["employer.com"] };

/** A setup request to home.org as employer.com signs it now. (The clock moves
 *  on a millisecond first: Ed25519 is deterministic, so the same request signed
 *  in the same millisecond would carry the very same signature, a replay.) */
function signedSetup(content: unknown = SETUP, over: { method?: string; uri?: string; destination?: string } = {}): IncomingRequest {
  clock.advance(1);
  const method = over.method ?? "POST";
  const uri = over.uri ?? "/webcall";
  return { method, uri, content, header: employer.keys.signatureHeader(method, `https://home.org${uri}`, over.destination ?? "home.org", content) };
}

function fields(header: string | undefined): SignatureHeader {
  const h = parseSignatureHeader(header!);
  if (typeof h === "string") throw new Error(h);
  return h;
}

async function refused(work: Promise<unknown>, message: RegExp, status = 401, errcode = "WEBCALL_BAD_SIGNATURE"): Promise<DomainError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DomainError);
  const e = error as DomainError;
  expect({ status: statusOf(e), errcode: e.errcode }).toEqual({ status, errcode });
  expect(e.message).toMatch(message);
  return e;
}

describe("RequestVerifier: good and unsigned requests", () => {
  it("an unsigned request proves nothing, and is no error", async () => {
    expect(await home.verifier.verify({ method: "POST", uri: "/webcall", header: undefined, content: SETUP })).toBeUndefined();
    expect(await home.verifier.verify({ method: "GET", uri: "/webcall/keys", header: undefined, content: undefined })).toBeUndefined();
  });

  it("a good signature names its origin", async () => {
    expect(await home.verifier.verify(signedSetup())).toBe("employer.com");
  });

  it("for any method, path and query, with or without a body", async () => {
    const events = { events: [{ id: "e1", type: "hangup", reason: "user_hangup" }] };
    expect(await home.verifier.verify(signedSetup(events, { uri: "/webcall/sessions/abc/events?x=1&y=%2F" }))).toBe("employer.com");
    expect(await home.verifier.verify(signedSetup(undefined, { method: "GET", uri: "/webcall/sessions/abc/events?since=3" }))).toBe("employer.com");
    expect(await home.verifier.verify(signedSetup({}, { uri: "/" }))).toBe("employer.com");
  });

  it("the method's case, the domains' case and the body's key order do not matter", async () => {
    const request = signedSetup({ b: 1, a: { d: [1, 2], c: "x" } }, { destination: "HOME.org" });
    expect(fields(request.header).destination).toBe("home.org");
    const header = request.header!.replace('origin="employer.com"', 'origin="Employer.COM"');
    expect(await home.verifier.verify({ ...request, method: "post", header, content: { a: { c: "x", d: [1, 2] }, b: 1 } })).toBe("employer.com");
  });

  it("a signature made up to 5 minutes either side of the receiver's clock is good", async () => {
    for (const offset of [MAX_SKEW_MS, -MAX_SKEW_MS, 0]) {
      const request = signedSetup();
      const verifier = new RequestVerifier(home.keyring, "home.org", 1000, () => clock.t + offset);
      expect(await verifier.verify(request)).toBe("employer.com");
    }
  });
});

describe("RequestVerifier: bad signatures are refused with 401 WEBCALL_BAD_SIGNATURE", () => {
  it("a malformed header", async () => {
    const request = signedSetup();
    await refused(home.verifier.verify({ ...request, header: "" }), /malformed/);
    await refused(home.verifier.verify({ ...request, header: request.header!.replace(/,sig="[^"]*"/, "") }), /needs origin, destination, key, ts and sig/);
    await refused(home.verifier.verify({ ...request, header: `${request.header},ts="1"` }), /names ts twice/);
    await refused(home.verifier.verify({ ...request, header: "x".repeat(2000) }), /too long/);
  });

  it("a signature for another destination", async () => {
    await refused(home.verifier.verify(signedSetup(SETUP, { destination: "other.example" })), /signed for other\.example, not home\.org/);
    // Even if the body is addressed to home.org: the destination must be this node.
    await refused(home.verifier.verify(signedSetup(SETUP, { destination: "employer.com" })), /not home\.org/);
  });

  it("a ts more than 5 minutes from the receiver's clock, either way", async () => {
    for (const offset of [MAX_SKEW_MS + 1000, -MAX_SKEW_MS - 1000, MAX_SKEW_MS + 1, -MAX_SKEW_MS - 1]) {
      const verifier = new RequestVerifier(home.keyring, "home.org", 1000, () => clock.t + offset);
      await refused(verifier.verify(signedSetup()), /more than 5 minutes/);
    }
  });

  it("a key id the origin does not publish (after asking it again)", async () => {
    clock.advance(1000); // past the once-a-second limit on asking again
    const request = signedSetup();
    const header = formatSignatureHeader({ ...fields(request.header), key: "ed25519:nosuchkey" });
    await refused(home.verifier.verify({ ...request, header }), /employer\.com has no key ed25519:nosuchkey valid at \d+/);
  });

  it("a retired key, for a signature made after it was retired", async () => {
    const old = signedSetup(); // signed with the current key, before the rotation
    const oldKey = fields(old.header).key;
    clock.advance(1000);
    await employer.keys.rotate();
    const retiredAt = clock.t;
    clock.advance(1000);
    // The old key is still good for what it signed before the rotation...
    expect(await home.verifier.verify(old)).toBe("employer.com");
    // ...and the new key is fetched and good...
    expect(await home.verifier.verify(signedSetup())).toBe("employer.com");
    // ...but a signature that claims the old key with a later ts is not.
    const late = signedSetup();
    const header = formatSignatureHeader({ ...fields(late.header), key: oldKey });
    expect(fields(late.header).ts).toBeGreaterThan(retiredAt);
    await refused(home.verifier.verify({ ...late, header }), new RegExp(`no key ${oldKey} valid at`));
  });

  it("a signature that does not match the request: content, uri, method, ts or origin changed", async () => {
    const request = signedSetup();
    const h = fields(request.header);
    const tampered: IncomingRequest[] = [
      { ...request, content: { ...SETUP, callerId: "boss@employer.com" } },
      { ...request, content: { ...SETUP, extra: true } },
      { ...request, content: undefined },
      { ...request, uri: "/webcall?x=1" },
      { ...request, uri: "/webcall/" },
      { ...request, method: "PUT" },
      { ...request, header: formatSignatureHeader({ ...h, ts: h.ts + 1 }) },
      { ...request, header: formatSignatureHeader({ ...h, sig: toBase64(Buffer.alloc(64)) }) },
    ];
    for (const t of tampered) await refused(home.verifier.verify(t), /does not match the request/);
    // The untouched request is still good (no failed attempt used it up).
    expect(await home.verifier.verify(request)).toBe("employer.com");
  });

  it("a signature whose sig is not 64 bytes", async () => {
    const request = signedSetup();
    const header = formatSignatureHeader({ ...fields(request.header), sig: "AAAA" });
    await refused(home.verifier.verify({ ...request, header }), /does not match/);
  });

  it("a body that cannot be signed", async () => {
    const request = signedSetup({ a: 1 });
    await refused(home.verifier.verify({ ...request, content: { a: 1.5 } }), /the body cannot be signed/);
  });

  it("the same signature a second time, however it is written", async () => {
    const request = signedSetup();
    expect(await home.verifier.verify(request)).toBe("employer.com");
    await refused(home.verifier.verify(request), /already used/);
    const h = fields(request.header);
    // The same signature bytes, padded, or with other values in the unused low bits of its last character.
    const raw = fromBase64(h.sig)!;
    const last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const index = last.indexOf(h.sig.at(-1)!);
    const others = [1, 2, 3, 15].map((low) => h.sig.slice(0, -1) + last[(index & ~15) | ((index + low) & 15)]!);
    for (const sig of [`${h.sig}==`, ...others]) {
      expect(fromBase64(sig)).toEqual(raw); // the very same 64 bytes
      await refused(home.verifier.verify({ ...request, header: formatSignatureHeader({ ...h, sig }) }), /already used/);
    }
    // Nor with the domains in another case.
    const upper = request.header!.replace('origin="employer.com"', 'origin="EMPLOYER.com"');
    await refused(home.verifier.verify({ ...request, header: upper }), /already used/);
  });
});

describe("RequestVerifier: what is not an error", () => {
  it("a signature whose origin's keys cannot be fetched counts as unsigned", async () => {
    const request = signedSetup();
    const header = formatSignatureHeader({ ...fields(request.header), origin: "down.example" });
    expect(await home.verifier.verify({ ...request, header })).toBeUndefined();
    // Still: the checks that need no keys come first.
    const elsewhere = formatSignatureHeader({ ...fields(request.header), origin: "down.example", destination: "other.example" });
    await refused(home.verifier.verify({ ...request, header: elsewhere }), /not home\.org/);
  });
});

describe("RequestVerifier: a full replay memory", () => {
  it("turns signed requests away with 503 and Retry-After rather than forget a signature", async () => {
    const verifier = new RequestVerifier(home.keyring, "home.org", 2, clock.now);
    const [one, two, three] = [signedSetup({ n: 1 }), signedSetup({ n: 2 }), signedSetup({ n: 3 })];
    expect(await verifier.verify(one)).toBe("employer.com");
    expect(await verifier.verify(two)).toBe("employer.com");
    const e = await refused(verifier.verify(three), /too many signed requests/, 503, "WEBCALL_UNAVAILABLE");
    expect(e.retryAfterS).toBe(5);
    // Replays are still replays; bad signatures are still 401; unsigned requests still pass.
    await refused(verifier.verify(one), /already used/);
    await refused(verifier.verify({ ...three, content: { n: 4 } }), /does not match/);
    expect(await verifier.verify({ ...three, header: undefined })).toBeUndefined();
  });
});

describe("RequestVerifier behind a real listener", () => {
  async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
    const res = await fetch(`${homeEndpoint.replace(/\/webcall$/, "")}${path}`, {
      method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }
  const lastCtx = () => home.node.calls.at(-1)!.args.at(-1) as { signer?: string };

  it("a signed setup reaches the node with its signer; unsigned, without", async () => {
    const request = signedSetup();
    expect((await post("/webcall", SETUP, { [SIGNATURE_HEADER]: request.header! })).status).toBe(200);
    expect(lastCtx().signer).toBe("employer.com");
    expect((await post("/webcall", SETUP)).status).toBe(200);
    expect(lastCtx().signer).toBeUndefined();
  });

  it("a tampered or replayed setup gets 401 WEBCALL_BAD_SIGNATURE and never reaches the node", async () => {
    const request = signedSetup();
    const calls = home.node.calls.length;
    const tampered = await post("/webcall", { ...SETUP, callerId: "boss@employer.com" }, { [SIGNATURE_HEADER]: request.header! });
    expect(tampered).toEqual({ status: 401, body: { errcode: "WEBCALL_BAD_SIGNATURE", error: "the signature does not match the request" } });
    expect((await post("/webcall?x=1", SETUP, { [SIGNATURE_HEADER]: request.header! })).status).toBe(401);
    expect((await post("/webcall", SETUP, { [SIGNATURE_HEADER]: request.header! })).status).toBe(200);
    const replay = await post("/webcall", SETUP, { [SIGNATURE_HEADER]: request.header! });
    expect(replay.status).toBe(401);
    expect(replay.body.error).toMatch(/already used/);
    expect(home.node.calls.length).toBe(calls + 1);
  });

  it("signed session events, as the node that set the call up pushes them", async () => {
    const sid = "session-bbbbbbbbbbbb", token = "B".repeat(43);
    home.node.addSession(sid, token);
    const body = { events: [{ id: "e1", type: "hangup", reason: "user_hangup" }] };
    const path = `/webcall/sessions/${sid}/events`;
    clock.advance(1);
    const header = employer.keys.signatureHeader("POST", `https://home.org${path}`, "home.org", body);
    expect((await post(path, body, { authorization: `Bearer ${token}`, [SIGNATURE_HEADER]: header })).status).toBe(200);
    expect(lastCtx().signer).toBe("employer.com");
    const other = employer.keys.signatureHeader("POST", "https://home.org/webcall/sessions/session-cccccccccccc/events", "home.org", body);
    expect((await post(path, body, { authorization: `Bearer ${token}`, [SIGNATURE_HEADER]: other })).status).toBe(401);
  });
});
