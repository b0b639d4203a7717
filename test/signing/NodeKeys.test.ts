import { rmSync } from "node:fs";
import { setLogLevel } from "../../src/log";
import { publicKeyFromBase64, verifyText } from "../../src/signing/ed25519";
import { NodeKeys, NodeKeysOptions } from "../../src/signing/NodeKeys";
import { KeysDocument } from "../../src/protocol/types";
import { parseSignatureHeader, signedText } from "../../src/signing/requestSignature";
import { openStore, Store } from "../../src/store";
import { checkResponse } from "../../src/protocol/validate";
import { clearSigningKeys, ManualClock, openTestStore } from "./nodeSigning";

setLogLevel("error");

const DAY = 86_400_000;

let dir: string;
let store: Store;
let clock: ManualClock;

// One store for the file (a store takes a while to open); every test starts without keys.
beforeAll(async () => {
  ({ store, dir } = await openTestStore());
});

beforeEach(async () => {
  await clearSigningKeys(store);
  clock = new ManualClock(1_763_712_000_000);
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(options: Partial<NodeKeysOptions> = {}, origin = "node.test"): Promise<NodeKeys> {
  return NodeKeys.open(store, origin, { rotateAfterMs: 0, oldKeyRetentionMs: 7 * DAY, publishForMs: DAY, now: clock.now, ...options });
}

async function reopenStore(): Promise<void> {
  await store.close();
  store = await openStore({ dataDir: dir });
}

/** Whether `keyId` in `doc` (current or old) verifies `sig` over `text`. */
function verifiesIn(doc: KeysDocument, keyId: string, text: string, sig: string): boolean {
  const entry = doc.verify_keys[keyId] ?? doc.old_verify_keys[keyId];
  return entry !== undefined && verifyText(text, sig, publicKeyFromBase64(entry.key)!);
}

describe("NodeKeys: the first key", () => {
  it("is created on first open, stored, and published", async () => {
    expect(await store.listSigningKeys()).toEqual([]);
    const keys = await open();
    const stored = await store.listSigningKeys();
    expect(stored).toEqual([{ keyId: keys.keyId, seed: expect.stringMatching(/^[A-Za-z0-9+/]{43}$/), createdAt: clock.t, expiredAt: null }]);
    const doc = keys.document();
    expect(doc).toEqual({
      node: "node.test", valid_until: clock.t + DAY,
      verify_keys: { [keys.keyId]: { key: expect.stringMatching(/^[A-Za-z0-9+/]{43}$/) } }, old_verify_keys: {},
    });
    expect(checkResponse("keys-response", doc)).toEqual([true]);
    // The published key is not the seed.
    expect(doc.verify_keys[keys.keyId]!.key).not.toBe(stored[0]!.seed);
  });

  it("is the same key after the store is closed and opened again", async () => {
    const first = await open();
    const { key, sig } = first.sign("hello");
    const published = first.document().verify_keys;
    await reopenStore();
    clock.advance(30 * DAY);
    const second = await open();
    expect(second.keyId).toBe(first.keyId);
    expect(second.document().verify_keys).toEqual(published);
    expect(second.sign("hello")).toEqual({ key, sig }); // Ed25519 is deterministic: the very same private key
    expect(await store.listSigningKeys()).toHaveLength(1);
  });

  it("is shared by two instances over one store", async () => {
    const a = await open();
    const b = await open();
    expect(b.keyId).toBe(a.keyId);
    expect(b.sign("x")).toEqual(a.sign("x"));
  });

  it("signs as the lower-cased origin", async () => {
    const keys = await open({}, "Node.TEST");
    expect(keys.origin).toBe("node.test");
    expect(keys.document().node).toBe("node.test");
  });

  it("refuses a damaged key in the store", async () => {
    await store.insertSigningKey({ keyId: "ed25519:broken", seed: "not a seed!", createdAt: 1, expiredAt: null });
    await expect(open()).rejects.toThrow(/ed25519:broken .*damaged/);
    await store.insertSigningKey({ keyId: "ed25519:short", seed: "AAAA", createdAt: 1, expiredAt: 5 });
    await expect(open()).rejects.toThrow(/damaged/);
  });
});

describe("NodeKeys: signatures", () => {
  it("sign() signs with the current key, verifiable with the published key", async () => {
    const keys = await open();
    const { key, sig } = keys.sign("text to sign");
    expect(key).toBe(keys.keyId);
    expect(verifiesIn(keys.document(), key, "text to sign", sig)).toBe(true);
    expect(verifiesIn(keys.document(), key, "text to sign!", sig)).toBe(false);
  });

  it("signatureHeader() signs the path and query, the lower-cased destination and the body, at now", async () => {
    const keys = await open();
    const content = { calleeId: "alice@example.org", via: ["node.test"] };
    const header = keys.signatureHeader("post", "https://Example.ORG:8448/webcall/sessions/abc/events?x=1&y=%20", "Example.ORG", content);
    const h = parseSignatureHeader(header);
    expect(h).toEqual({ origin: "node.test", destination: "example.org", key: keys.keyId, ts: clock.t, sig: expect.any(String) });
    if (typeof h === "string") throw new Error(h);
    expect(header).toContain('destination="example.org"');
    const text = signedText({ method: "POST", uri: "/webcall/sessions/abc/events?x=1&y=%20", origin: "node.test", destination: "example.org", content, ts: clock.t });
    expect(verifiesIn(keys.document(), h.key, text, h.sig)).toBe(true);
    // Not the host, the fragment or another uri.
    const other = signedText({ method: "POST", uri: "/webcall/sessions/abc/events", origin: "node.test", destination: "example.org", content, ts: clock.t });
    expect(verifiesIn(keys.document(), h.key, other, h.sig)).toBe(false);
  });

  it("signatureHeader() without a body signs no content", async () => {
    const keys = await open();
    const h = parseSignatureHeader(keys.signatureHeader("GET", "https://b.example/webcall/keys", "b.example", undefined));
    if (typeof h === "string") throw new Error(h);
    const text = signedText({ method: "GET", uri: "/webcall/keys", origin: "node.test", destination: "b.example", ts: clock.t });
    expect(text).not.toContain("content");
    expect(verifiesIn(keys.document(), h.key, text, h.sig)).toBe(true);
  });
});

describe("NodeKeys: rotation", () => {
  it("rotate() signs with a new key and keeps the old one published as old, with expired_ts", async () => {
    const keys = await open();
    const oldId = keys.keyId;
    const before = keys.sign("before");
    const oldPublic = keys.document().verify_keys[oldId]!.key;
    const rotatedAt = clock.advance(1000);
    await keys.rotate();
    expect(keys.keyId).not.toBe(oldId);
    const doc = keys.document();
    expect(doc.verify_keys).toEqual({ [keys.keyId]: { key: expect.any(String) } });
    expect(doc.verify_keys[keys.keyId]!.key).not.toBe(oldPublic);
    expect(doc.old_verify_keys).toEqual({ [oldId]: { key: oldPublic, expired_ts: rotatedAt } });
    expect(checkResponse("keys-response", doc)).toEqual([true]);
    // What the old key signed still verifies; new signatures use the new key.
    expect(verifiesIn(doc, before.key, "before", before.sig)).toBe(true);
    const after = keys.sign("after");
    expect(after.key).toBe(keys.keyId);
    expect(verifiesIn(doc, after.key, "after", after.sig)).toBe(true);
    expect(verifiesIn(doc, oldId, "after", after.sig)).toBe(false);
  });

  it("the rotation is kept in the store", async () => {
    const keys = await open();
    const oldId = keys.keyId;
    const rotatedAt = clock.advance(5);
    await keys.rotate();
    const newId = keys.keyId;
    const stored = await store.listSigningKeys();
    expect(stored.map((k) => [k.keyId, k.expiredAt])).toEqual([[oldId, rotatedAt], [newId, null]]);
    await reopenStore();
    const again = await open();
    expect(again.keyId).toBe(newId);
    expect(Object.keys(again.document().old_verify_keys)).toEqual([oldId]);
    expect(again.document()).toEqual(keys.document());
  });

  it("several rotations keep every retired key until its retention is over", async () => {
    const keys = await open({ oldKeyRetentionMs: 10_000 });
    const ids = [keys.keyId];
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await keys.rotate();
      ids.push(keys.keyId);
    }
    expect(new Set(ids).size).toBe(4);
    const doc = keys.document();
    expect(Object.keys(doc.verify_keys)).toEqual([ids[3]]);
    expect(Object.keys(doc.old_verify_keys).sort()).toEqual(ids.slice(0, 3).sort());
    expect(ids.slice(0, 3).map((id) => doc.old_verify_keys[id]!.expired_ts)).toEqual([clock.t - 2000, clock.t - 1000, clock.t]);
  });

  it("a retired key older than oldKeyRetentionMs leaves the document, and the store at the next rotation", async () => {
    const keys = await open({ oldKeyRetentionMs: 1000 });
    const a = keys.keyId;
    const retiredA = clock.t;
    await keys.rotate();
    const b = keys.keyId;
    clock.t = retiredA + 999;
    expect(Object.keys(keys.document().old_verify_keys)).toEqual([a]);
    clock.t = retiredA + 1000;
    expect(keys.document().old_verify_keys).toEqual({}); // no longer published...
    expect((await store.listSigningKeys()).map((k) => k.keyId)).toContain(a); // ...but not yet deleted
    clock.t = retiredA + 1001;
    await keys.rotate();
    const c = keys.keyId;
    const stored = await store.listSigningKeys();
    expect(stored.map((k) => [k.keyId, k.expiredAt])).toEqual([[b, retiredA + 1001], [c, null]]);
    expect(Object.keys(keys.document().old_verify_keys)).toEqual([b]);
    expect(Object.keys(keys.document().verify_keys)).toEqual([c]);
  });

  it("a retired key within its retention survives the next rotation", async () => {
    const keys = await open({ oldKeyRetentionMs: 1000 });
    const a = keys.keyId;
    clock.advance(500);
    await keys.rotate();
    const b = keys.keyId;
    clock.advance(999);
    await keys.rotate();
    expect(Object.keys(keys.document().old_verify_keys).sort()).toEqual([a, b].sort());
    expect(await store.listSigningKeys()).toHaveLength(3);
  });
});

describe("NodeKeys: rotateIfDue", () => {
  it("rotates once the key is rotateAfterMs old, and not before", async () => {
    const created = clock.t;
    const keys = await open({ rotateAfterMs: 10_000 });
    const first = keys.keyId;
    clock.t = created + 9_999;
    await keys.rotateIfDue();
    expect(keys.keyId).toBe(first);
    clock.t = created + 10_000;
    await keys.rotateIfDue();
    const second = keys.keyId;
    expect(second).not.toBe(first);
    expect(keys.document().old_verify_keys[first]!.expired_ts).toBe(created + 10_000);
    // The new key's age counts from its own creation.
    clock.t = created + 19_999;
    await keys.rotateIfDue();
    expect(keys.keyId).toBe(second);
    clock.t = created + 20_000;
    await keys.rotateIfDue();
    expect(keys.keyId).not.toBe(second);
  });

  it("never rotates on its own when rotateAfterMs is 0", async () => {
    const keys = await open({ rotateAfterMs: 0 });
    const first = keys.keyId;
    clock.advance(10 * 365 * DAY);
    await keys.rotateIfDue();
    expect(keys.keyId).toBe(first);
    expect(await store.listSigningKeys()).toHaveLength(1);
  });

  it("open() rotates a key that became due while the node was down", async () => {
    const first = (await open({ rotateAfterMs: 90 * DAY })).keyId;
    await reopenStore();
    clock.advance(89 * DAY);
    expect((await open({ rotateAfterMs: 90 * DAY })).keyId).toBe(first);
    await reopenStore();
    clock.advance(DAY);
    const keys = await open({ rotateAfterMs: 90 * DAY });
    expect(keys.keyId).not.toBe(first);
    expect(Object.keys(keys.document().old_verify_keys)).toEqual([first]);
  });
});
