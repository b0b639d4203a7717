import { createPublicKey, KeyObject } from "node:crypto";
import { logger } from "../log";
import { KeysDocument } from "../protocol/types";
import { SigningKeyRecord, Store } from "../store/Store";
import { fromBase64, newKeyId, newSeed, privateKeyFromSeed, publicKeyBase64, signText, toBase64 } from "./ed25519";
import { formatSignatureHeader, signedText } from "./requestSignature";

const log = logger("signing.keys");

export interface NodeKeysOptions {
  /** Rotate the signing key once it is this old; 0 = only when asked. */
  rotateAfterMs: number;
  /** How long a retired key is still published. */
  oldKeyRetentionMs: number;
  /** How long others may cache the published keys. */
  publishForMs: number;
  now?: () => number;
}

interface LoadedKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: string;
  /** The same public key, ready to verify with. */
  verifyKey: KeyObject;
  createdAt: number;
  expiredAt: number | null;
}

/**
 * This node's Ed25519 signing keys. The first start creates one and keeps it
 * in the store, so a restart signs with the same key. Rotation retires the
 * key (it stays published as an old key, valid for what it signed before)
 * and signs with a new one from then on, so calls in flight keep working.
 */
export class NodeKeys {
  private keys: LoadedKey[] = [];
  private readonly now: () => number;

  private constructor(private readonly store: Store, readonly origin: string, private readonly options: NodeKeysOptions) {
    this.now = options.now ?? Date.now;
  }

  static async open(store: Store, origin: string, options: NodeKeysOptions): Promise<NodeKeys> {
    const keys = new NodeKeys(store, origin.toLowerCase(), options);
    await keys.load();
    if (!keys.active()) await keys.create();
    await keys.rotateIfDue();
    return keys;
  }

  /** The key new signatures are made with. */
  get keyId(): string {
    return this.active()!.keyId;
  }

  /** Signs `text` with the current key. */
  sign(text: string): { key: string; sig: string } {
    const key = this.active()!;
    return { key: key.keyId, sig: signText(text, key.privateKey) };
  }

  /** The WebCall-Signature header value for a request to `url` on the node `destination`. */
  signatureHeader(method: string, url: string, destination: string, content: unknown): string {
    const { pathname, search } = new URL(url);
    const ts = this.now();
    const { key, sig } = this.sign(signedText({ method, uri: `${pathname}${search}`, origin: this.origin, destination, content, ts }));
    return formatSignatureHeader({ origin: this.origin, destination: destination.toLowerCase(), key, ts, sig });
  }

  document(): KeysDocument {
    const now = this.now();
    const verify: KeysDocument["verify_keys"] = {};
    const old: KeysDocument["old_verify_keys"] = {};
    for (const k of this.keys) {
      if (k.expiredAt === null) verify[k.keyId] = { key: k.publicKey };
      else if (this.stillPublished(k, now)) old[k.keyId] = { key: k.publicKey, expired_ts: k.expiredAt };
    }
    return { node: this.origin, valid_until: now + this.options.publishForMs, verify_keys: verify, old_verify_keys: old };
  }

  /** One of this node's keys as `document()` publishes it, ready to verify
   *  with (what a peer's KeyRing would fetch, without the fetch). */
  published(keyId: string): { key: KeyObject; expiredTs: number | null } | undefined {
    const k = this.keys.find((key) => key.keyId === keyId);
    return k && this.stillPublished(k, this.now()) ? { key: k.verifyKey, expiredTs: k.expiredAt } : undefined;
  }

  private stillPublished(k: LoadedKey, now: number): boolean {
    return k.expiredAt === null || k.expiredAt + this.options.oldKeyRetentionMs > now;
  }

  /** Retires the current key and signs with a new one from now on. */
  async rotate(): Promise<void> {
    const previous = this.active();
    const now = this.now();
    await this.create();
    if (previous) await this.store.retireSigningKey(previous.keyId, now);
    await this.store.deleteSigningKeysRetiredBefore(now - this.options.oldKeyRetentionMs);
    await this.load();
    log.info("signing key rotated", { retired: previous?.keyId, current: this.keyId });
  }

  async rotateIfDue(): Promise<void> {
    const current = this.active();
    if (this.options.rotateAfterMs > 0 && current && this.now() - current.createdAt >= this.options.rotateAfterMs) await this.rotate();
  }

  private active(): LoadedKey | undefined {
    // The newest active key; two instances that both created one agree on it.
    let best: LoadedKey | undefined;
    for (const k of this.keys) {
      if (k.expiredAt !== null) continue;
      if (!best || k.createdAt > best.createdAt || (k.createdAt === best.createdAt && k.keyId > best.keyId)) best = k;
    }
    return best;
  }

  private async create(): Promise<void> {
    const seed = newSeed();
    const record: SigningKeyRecord = { keyId: newKeyId(), seed: toBase64(seed), createdAt: this.now(), expiredAt: null };
    await this.store.insertSigningKey(record);
    await this.load();
    log.info("created a signing key", { keyId: record.keyId });
  }

  private async load(): Promise<void> {
    this.keys = (await this.store.listSigningKeys()).map((r) => {
      const seed = fromBase64(r.seed);
      if (!seed || seed.length !== 32) throw new Error(`signing key ${r.keyId} in the store is damaged`);
      const privateKey = privateKeyFromSeed(seed);
      const verifyKey = createPublicKey(privateKey);
      return { keyId: r.keyId, privateKey, publicKey: publicKeyBase64(verifyKey), verifyKey, createdAt: r.createdAt, expiredAt: r.expiredAt };
    });
  }
}
