import { KeyObject } from "node:crypto";
import { Config } from "../../src/config/schema";
import { setLogLevel } from "../../src/log";
import { publicKeyBase64, verifyText } from "../../src/signing/ed25519";
import { KeyLookup, KeyRing } from "../../src/signing/KeyRing";
import { HostedAnswer, KeysHost, ManualClock, NodeSigning, openNodes, SIGNING_DEFAULTS } from "./nodeSigning";

setLogLevel("error");

const clock = new ManualClock();
let host: KeysHost;
/** The node that fetches keys; its outbound.nodes point at `host`. */
let home: NodeSigning;
/** Nodes whose keys `host` publishes (alpha.test at /alpha, ...). */
let alpha: NodeSigning, beta: NodeSigning, gamma: NodeSigning;
/** What `host` answers for /broken and /flaky; tests set them. */
let broken: () => HostedAnswer;
let flaky: () => HostedAnswer;

beforeAll(async () => {
  host = await KeysHost.start();
  [home, alpha, beta, gamma] = await openNodes(["home.org", "alpha.test", "beta.test", "gamma.test"], { now: clock.now });
  Object.assign(home.nodes, {
    "alpha.test": host.publish("alpha", alpha.keys),
    "beta.test": host.publish("beta", beta.keys),
    "gamma.test": host.publish("gamma", gamma.keys),
    "broken.test": host.serve("broken", () => broken()),
    "flaky.test": host.serve("flaky", () => flaky()),
    "liar.test": host.publish("liar", alpha.keys), // publishes alpha.test's keys, saying so
    "down.test": "http://127.0.0.1:1/webcall", // nothing listens there
    "nowhere.test": `${host.base}/nowhere`, // 404
  });
});

afterAll(async () => {
  await Promise.all([home, alpha, beta, gamma].map((n) => n?.close()));
  await host?.close();
});

/** A KeyRing of home's, with an empty cache. */
function ring(signing: Partial<Config["signing"]> = {}): KeyRing {
  return new KeyRing(home.http, home.discovery, { ...SIGNING_DEFAULTS, ...signing }, home.keys, clock.now);
}

function keyOf(found: KeyLookup): KeyObject {
  if (typeof found === "string") throw new Error(`expected a key, got ${found}`);
  return found.key;
}

/** The requests /name/keys gets while `work` runs. */
async function fetchesDuring(name: string, work: () => Promise<unknown>): Promise<number> {
  const before = host.requests(name);
  await work();
  return host.requests(name) - before;
}

describe("KeyRing: fetching and caching", () => {
  it("fetches a node's keys from {endpoint}/keys and checks its signatures with them", async () => {
    const keyring = ring();
    const { key, sig } = alpha.keys.sign("signed by alpha");
    let found: KeyLookup = "unknown";
    expect(await fetchesDuring("alpha", async () => { found = await keyring.keyFor("alpha.test", key, clock.t); })).toBe(1);
    expect(publicKeyBase64(keyOf(found))).toBe(alpha.keys.document().verify_keys[key]!.key);
    expect(verifyText("signed by alpha", sig, keyOf(found))).toBe(true);
    expect(verifyText("signed by alpha", beta.keys.sign("signed by alpha").sig, keyOf(found))).toBe(false);
  });

  it("answers from its cache until the answer expires", async () => {
    const keyring = ring();
    const id = alpha.keys.keyId;
    expect(await fetchesDuring("alpha", async () => {
      for (let i = 0; i < 5; i++) expect(await keyring.keyFor("alpha.test", id, clock.t - i * 1000)).toEqual({ key: expect.any(KeyObject) });
      clock.advance(59_000);
      expect(await keyring.keyFor("alpha.test", id, clock.t)).toEqual({ key: expect.any(KeyObject) });
    })).toBe(1);
  });

  it("shares one fetch between concurrent lookups", async () => {
    const keyring = ring();
    const id = beta.keys.keyId;
    let answers: KeyLookup[] = [];
    expect(await fetchesDuring("beta", async () => {
      answers = await Promise.all(Array.from({ length: 8 }, () => keyring.keyFor("beta.test", id, clock.t)));
    })).toBe(1);
    expect(answers.every((a) => typeof a === "object")).toBe(true);
  });

  it("answers this node's own keys without fetching anything", async () => {
    const keyring = ring();
    const { key, sig } = home.keys.sign("mine");
    const found = await keyring.keyFor("home.org", key, clock.t);
    expect(verifyText("mine", sig, keyOf(found))).toBe(true);
    expect(await keyring.keyFor("home.org", "ed25519:nope", clock.t)).toBe("unknown");
  });

  it("keeps an answer for at most peerKeyCacheMs, however long valid_until allows", async () => {
    // alpha publishes its keys for a day.
    expect(alpha.keys.document().valid_until - clock.t).toBe(86_400_000);
    const keyring = ring({ peerKeyCacheMs: 120_000 });
    const id = alpha.keys.keyId;
    expect(await fetchesDuring("alpha", async () => {
      await keyring.keyFor("alpha.test", id, clock.t);
      clock.advance(119_999);
      await keyring.keyFor("alpha.test", id, clock.t);
    })).toBe(1);
    clock.advance(1);
    expect(await fetchesDuring("alpha", () => keyring.keyFor("alpha.test", id, clock.t))).toBe(1);
  });

  it("keeps an answer until valid_until when that is sooner, but for at least a minute", async () => {
    const keyring = ring();
    const id = beta.keys.keyId;
    let validFor = 90_000;
    flaky = () => ({ body: { ...beta.keys.document(), node: "flaky.test", valid_until: clock.t + validFor } });
    await keyring.keyFor("flaky.test", id, clock.t);
    clock.advance(89_999);
    expect(await fetchesDuring("flaky", () => keyring.keyFor("flaky.test", id, clock.t))).toBe(0);
    clock.advance(1);
    validFor = 1000; // now valid for one second only: kept for a minute anyway
    expect(await fetchesDuring("flaky", () => keyring.keyFor("flaky.test", id, clock.t))).toBe(1);
    clock.advance(59_999);
    expect(await fetchesDuring("flaky", () => keyring.keyFor("flaky.test", id, clock.t))).toBe(0);
    clock.advance(1);
    validFor = -5000; // already expired: still a minute
    expect(await fetchesDuring("flaky", () => keyring.keyFor("flaky.test", id, clock.t))).toBe(1);
    clock.advance(59_999);
    expect(await fetchesDuring("flaky", () => keyring.keyFor("flaky.test", id, clock.t))).toBe(0);
  });

  it("keeps at most peerKeyCacheSize nodes, forgetting the least recently used", async () => {
    const keyring = ring({ peerKeyCacheSize: 2 });
    const lookup = (n: NodeSigning) => keyring.keyFor(n.domain, n.keys.keyId, clock.t);
    const counts = () => ["alpha", "beta", "gamma"].map((n) => host.requests(n));
    const start = counts();
    const delta = () => counts().map((c, i) => c - start[i]!);
    await lookup(alpha);
    await lookup(beta);
    expect(delta()).toEqual([1, 1, 0]);
    await lookup(alpha); // alpha is now the most recently used
    await lookup(gamma); // evicts beta
    expect(delta()).toEqual([1, 1, 1]);
    await lookup(alpha);
    await lookup(gamma);
    expect(delta()).toEqual([1, 1, 1]);
    await lookup(beta); // fetched again; evicts alpha (gamma was used later)
    expect(delta()).toEqual([1, 2, 1]);
    await lookup(gamma);
    await lookup(alpha);
    expect(delta()).toEqual([2, 2, 1]);
  });
});

describe("KeyRing: unknown key ids and rotation", () => {
  it("fetches again for a key id it does not know, at most once a second per node", async () => {
    const keyring = ring();
    expect(await fetchesDuring("gamma", async () => {
      expect(await keyring.keyFor("gamma.test", "ed25519:nosuchkey", clock.t)).toBe("unknown");
    })).toBe(1);
    // A second after that fetch, the next unknown key id is asked about at once.
    clock.advance(1000);
    expect(await fetchesDuring("gamma", async () => {
      expect(await keyring.keyFor("gamma.test", "ed25519:nosuchkey", clock.t)).toBe("unknown");
    })).toBe(1);
    // Within the second, a lookup waits for the next allowed fetch (here 60 ms
    // away), and lookups meanwhile share it; known key ids do not wait.
    clock.advance(940);
    const before = host.requests("gamma");
    const started = performance.now();
    const waiting = Promise.all(["ed25519:x1", "ed25519:x2", "ed25519:x3"].map((id) => keyring.keyFor("gamma.test", id, clock.t)));
    expect(await keyring.keyFor("gamma.test", gamma.keys.keyId, clock.t)).toEqual({ key: expect.any(KeyObject) });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(host.requests("gamma")).toBe(before); // not yet
    expect(await waiting).toEqual(["unknown", "unknown", "unknown"]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(50);
    expect(host.requests("gamma")).toBe(before + 1);
    // Another node's budget is its own.
    expect(await fetchesDuring("alpha", () => keyring.keyFor("alpha.test", "ed25519:nosuchkey", clock.t))).toBe(1);
    // A key id it knows costs nothing.
    clock.advance(1000);
    expect(await fetchesDuring("gamma", () => keyring.keyFor("gamma.test", gamma.keys.keyId, clock.t))).toBe(0);
  });

  it("a clock stepped back does not hold a lookup up for longer than a second", async () => {
    const keyring = ring();
    await keyring.keyFor("gamma.test", gamma.keys.keyId, clock.t);
    clock.advance(-3_600_000); // the wall clock is put back an hour
    try {
      const started = performance.now();
      const lookup = keyring.keyFor("gamma.test", "ed25519:nosuchkey", clock.t);
      const timeout = new Promise((resolve) => setTimeout(resolve, 2500, "still waiting"));
      expect(await Promise.race([lookup, timeout])).toBe("unknown");
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      clock.advance(3_600_000);
    }
  });

  it("follows a rotation: the new key after a refetch, the old one for what it signed before", async () => {
    const keyring = ring();
    const oldId = alpha.keys.keyId;
    const before = alpha.keys.sign("before");
    await keyring.keyFor("alpha.test", oldId, clock.t);
    const rotatedAt = clock.advance(970);
    await alpha.keys.rotate();
    const newId = alpha.keys.keyId;
    const after = alpha.keys.sign("after");
    // 970 ms after the last fetch: the lookup of the new key id waits the last 30 ms, then finds it.
    let found: KeyLookup = "unknown";
    expect(await fetchesDuring("alpha", async () => { found = await keyring.keyFor("alpha.test", newId, clock.t); })).toBe(1);
    expect(verifyText("after", after.sig, keyOf(found))).toBe(true);
    expect(verifyText("before", after.sig, keyOf(found))).toBe(false);
    // The old key, now under old_verify_keys, only for signatures made up to expired_ts.
    expect(alpha.keys.document().old_verify_keys[oldId]).toEqual({ key: expect.any(String), expired_ts: rotatedAt });
    expect(verifyText("before", before.sig, keyOf(await keyring.keyFor("alpha.test", oldId, rotatedAt - 10)))).toBe(true);
    expect(verifyText("before", before.sig, keyOf(await keyring.keyFor("alpha.test", oldId, rotatedAt)))).toBe(true);
    expect(await keyring.keyFor("alpha.test", oldId, rotatedAt + 1)).toBe("unknown");
    // A cached old key that is merely too old for ts does not make it fetch again.
    clock.advance(1000);
    expect(await fetchesDuring("alpha", () => keyring.keyFor("alpha.test", oldId, clock.t))).toBe(0);
  });

  it("a key in both verify_keys and old_verify_keys counts as current", async () => {
    const keyring = ring();
    const doc = beta.keys.document();
    const id = beta.keys.keyId;
    flaky = () => ({ body: { ...doc, node: "flaky.test", old_verify_keys: { [id]: { key: doc.verify_keys[id]!.key, expired_ts: 5 } } } });
    expect(await keyring.keyFor("flaky.test", id, clock.t)).toEqual({ key: expect.any(KeyObject) });
  });

  it("only old keys: each valid up to its own expired_ts", async () => {
    const keyring = ring();
    const a = beta.keys.document().verify_keys[beta.keys.keyId]!.key;
    const b = gamma.keys.document().verify_keys[gamma.keys.keyId]!.key;
    flaky = () => ({ body: {
      node: "flaky.test", valid_until: clock.t + 600_000, verify_keys: {},
      old_verify_keys: { "ed25519:a": { key: a, expired_ts: 1000 }, "ed25519:b": { key: b, expired_ts: 2000 } },
    } });
    expect(publicKeyBase64(keyOf(await keyring.keyFor("flaky.test", "ed25519:a", 1000)))).toBe(a);
    expect(await keyring.keyFor("flaky.test", "ed25519:a", 1001)).toBe("unknown");
    expect(publicKeyBase64(keyOf(await keyring.keyFor("flaky.test", "ed25519:b", 0)))).toBe(b);
    expect(publicKeyBase64(keyOf(await keyring.keyFor("flaky.test", "ed25519:b", 2000)))).toBe(b);
    expect(await keyring.keyFor("flaky.test", "ed25519:b", 2001)).toBe("unknown");
  });
});

describe("KeyRing: failures", () => {
  it("remembers a failed fetch for 30 s: unavailable, without asking again", async () => {
    const keyring = ring();
    const id = beta.keys.keyId;
    flaky = () => ({ status: 503, body: { errcode: "WEBCALL_UNAVAILABLE", error: "down" } });
    expect(await fetchesDuring("flaky", async () => {
      expect(await keyring.keyFor("flaky.test", id, clock.t)).toBe("unavailable");
      flaky = () => ({ body: { ...beta.keys.document(), node: "flaky.test" } }); // back up
      clock.advance(29_999);
      expect(await keyring.keyFor("flaky.test", id, clock.t)).toBe("unavailable");
      expect(await keyring.keyFor("flaky.test", "ed25519:other", clock.t)).toBe("unavailable");
    })).toBe(1);
    clock.advance(1);
    expect(await fetchesDuring("flaky", async () => {
      expect(await keyring.keyFor("flaky.test", id, clock.t)).toEqual({ key: expect.any(KeyObject) });
    })).toBe(1);
  });

  it("a node that does not answer, or has no /keys, is unavailable", async () => {
    const keyring = ring();
    expect(await keyring.keyFor("down.test", "ed25519:abc", clock.t)).toBe("unavailable");
    expect(await keyring.keyFor("nowhere.test", "ed25519:abc", clock.t)).toBe("unavailable");
  });

  it("ignores an answer about another node", async () => {
    const keyring = ring();
    const id = alpha.keys.keyId;
    expect(alpha.keys.document().node).toBe("alpha.test");
    expect(await fetchesDuring("liar", async () => {
      expect(await keyring.keyFor("liar.test", id, clock.t)).toBe("unavailable");
      expect(await keyring.keyFor("liar.test", id, clock.t)).toBe("unavailable"); // remembered as a failure
    })).toBe(1);
  });

  it("accepts the node's name in another case", async () => {
    flaky = () => ({ body: { ...beta.keys.document(), node: "FLAKY.Test" } });
    expect(await ring().keyFor("flaky.test", beta.keys.keyId, clock.t)).toEqual({ key: expect.any(KeyObject) });
  });

  /** beta.test's keys, as broken.test's: a good answer for broken.test. */
  const good = () => ({ ...beta.keys.document(), node: "broken.test" });
  const key = () => good().verify_keys[beta.keys.keyId]!.key;
  it.each<[string, () => unknown]>([
    ["not JSON", () => "{ not json"],
    ["an array", () => [good()]],
    ["without node", () => { const { node: _n, ...rest } = good(); return rest; }],
    ["without old_verify_keys", () => { const { old_verify_keys: _o, ...rest } = good(); return rest; }],
    ["without verify_keys", () => { const { verify_keys: _v, ...rest } = good(); return rest; }],
    ["without valid_until", () => { const { valid_until: _v, ...rest } = good(); return rest; }],
    ["valid_until as a string", () => ({ ...good(), valid_until: String(good().valid_until) })],
    ["a bad key id", () => ({ ...good(), verify_keys: { "rsa:abc": { key: key() } } })],
    ["a key that is not base64", () => ({ ...good(), verify_keys: { [beta.keys.keyId]: { key: "not base64!" } } })],
    ["an old key without expired_ts", () => ({ ...good(), old_verify_keys: { "ed25519:old": { key: key() } } })],
    ["a node that is not a domain", () => ({ ...good(), node: "broken.test/evil" })],
  ])("ignores an answer that does not match the schema: %s", async (_name, body) => {
    broken = () => ({ body: body() });
    expect(await ring().keyFor("broken.test", beta.keys.keyId, clock.t)).toBe("unavailable");
  });

  it("the same answer, schema-valid, is accepted (the cases above are broken only where they say)", async () => {
    broken = () => ({ body: good() });
    expect(await ring().keyFor("broken.test", beta.keys.keyId, clock.t)).toEqual({ key: expect.any(KeyObject) });
  });

  it("skips a key that is base64 but not 32 bytes, and keeps the others", async () => {
    const doc = good();
    broken = () => ({ body: { ...doc, verify_keys: { ...doc.verify_keys, "ed25519:short": { key: "AAAA" } } } });
    const keyring = ring();
    expect(await keyring.keyFor("broken.test", "ed25519:short", clock.t)).toBe("unknown");
    expect(await keyring.keyFor("broken.test", beta.keys.keyId, clock.t)).toEqual({ key: expect.any(KeyObject) });
  });
});
