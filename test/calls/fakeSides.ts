/**
 * The call core with fakes of its two sides (src/calls/ports.ts) and no
 * homeserver: a scripted Matrix side that records what the bridge sends,
 * and a party side that records session events. The store is the real one
 * on PGlite, so the table's conditional transitions are the real ones.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { CallCore } from "../../src/calls/CallCore";
import { Core } from "../../src/calls/CallDeps";
import { DmOutcome, MatrixSide, PartySide, RotaSide } from "../../src/calls/ports";
import { Address } from "../../src/ids/address";
import { LocalUsers } from "../../src/ids/localUsers";
import { MatrixUserId, RoomId } from "../../src/ids/matrix";
import { VirtualUsers } from "../../src/ids/virtualUsers";
import { CallEvent, MatrixEvent } from "../../src/matrix/events/types";
import { UNVERIFIED } from "../../src/model/callerIdentity";
import { Session } from "../../src/model/session";
import { SessionEventBody, SetupResponse } from "../../src/protocol/types";
import { CallerCheck } from "../../src/signing/CallerCheck";
import { NodeKeys } from "../../src/signing/NodeKeys";
import { OpenStoreOptions, openStore } from "../../src/store";
import { DmRoom, Store } from "../../src/store/Store";
import { SetupPost } from "../../src/webcall/setupClient";
import { ManualClock } from "../support/manualClock";

export const DOMAIN = "example.org";
export const OFFER = { type: "offer" as const, sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" };
export const ANSWER = { type: "answer" as const, sdp: "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" };

export interface Sent { as: string; roomId: string; type: string; content: Record<string, unknown> }

export class FakeMatrix implements MatrixSide {
  readonly sent: Sent[] = [];
  readonly dms = new Map<string, DmRoom>();
  readonly existing = new Set<string>();
  private rooms = 0;

  async ensureVirtualUser(): Promise<void> {}
  async nameIn(): Promise<void> {}
  async findDm(m: MatrixUserId, v: MatrixUserId): Promise<DmRoom | undefined> {
    return this.dms.get(`${m}|${v}`);
  }
  async dmByRoom(roomId: RoomId): Promise<DmRoom | undefined> {
    return [...this.dms.values()].find((d) => d.roomId === roomId);
  }
  async ensureDm(m: MatrixUserId, v: MatrixUserId): Promise<DmOutcome> {
    const dm = this.dms.get(`${m}|${v}`);
    if (dm) return { room: dm, created: false };
    const room: DmRoom = { matrixUserId: m, virtualUserId: v, roomId: `!dm${++this.rooms}:${DOMAIN}` as RoomId, matrixUserJoined: false };
    this.dms.set(`${m}|${v}`, room);
    return { room, created: true };
  }
  /** A DM the user has joined already (a warm pair). */
  joinedDm(m: string, v: string, roomId = `!dm${++this.rooms}:${DOMAIN}`): DmRoom {
    const room: DmRoom = { matrixUserId: m as MatrixUserId, virtualUserId: v as MatrixUserId, roomId: roomId as RoomId, matrixUserJoined: true };
    this.dms.set(`${m}|${v}`, room);
    return room;
  }
  async setJoined(roomId: RoomId, joined: boolean): Promise<void> {
    for (const dm of this.dms.values()) if (dm.roomId === roomId) dm.matrixUserJoined = joined;
  }
  async forgetDm(): Promise<void> {}
  async onDmInvite(): Promise<void> {}
  async sendCallEvent(as: MatrixUserId, roomId: RoomId, type: string, content: object): Promise<void> {
    this.sent.push({ as, roomId, type, content: content as Record<string, unknown> });
  }
  async sentCallEvent(): Promise<boolean> {
    return false;
  }
  async notice(as: MatrixUserId, roomId: RoomId, text: string): Promise<void> {
    this.sent.push({ as, roomId, type: "m.notice", content: { body: text } });
  }
  async userExists(userId: MatrixUserId): Promise<boolean> {
    return this.existing.has(userId);
  }
  knownAbsent(): boolean {
    return false;
  }

  of(type: string, roomId?: string): Sent[] {
    return this.sent.filter((s) => s.type === type && (!roomId || s.roomId === roomId));
  }
}

export class FakeParty implements PartySide {
  readonly events: { sessionId: string; body: SessionEventBody }[] = [];
  readonly setups: SetupPost[] = [];
  answerSetup: (post: SetupPost) => Promise<SetupResponse> = async () => ({ status: "could_not_attend" });
  endpoints = new Map<string, string>();

  async send(session: Session, body: SessionEventBody): Promise<void> {
    this.events.push({ sessionId: session.id, body });
  }
  async replay(): Promise<void> {}
  wake(): void {}
  subscribe(): () => void {
    return () => undefined;
  }
  postSetup(post: SetupPost): Promise<SetupResponse> {
    this.setups.push(post);
    return this.answerSetup(post);
  }
  async endpointFor(domain: string): Promise<string | undefined> {
    return this.endpoints.get(domain);
  }
  knownEndpoint(domain: string): string | undefined {
    return this.endpoints.get(domain);
  }
  of(sessionId: string, type?: string): SessionEventBody[] {
    return this.events.filter((e) => e.sessionId === sessionId && (!type || e.body.type === type)).map((e) => e.body);
  }
}

export interface Harness {
  core: CallCore;
  store: Store;
  matrix: FakeMatrix;
  party: FakeParty;
  virtual: string;
  /** A new core on the same store and sides (a restart). */
  restart(): Promise<CallCore>;
  close(): Promise<void>;
}

/** `store`: options of a store to open (e.g. one a test migrated); default a fresh PGlite. */
export async function startHarness(opts: { store?: OpenStoreOptions; matrix?: FakeMatrix; rotas?: RotaSide; now?: () => number } = {}): Promise<Harness> {
  const dir = await mkdtemp(path.join(tmpdir(), "webcall-core-unit-"));
  const store = await openStore(opts.store ?? { dataDir: path.join(dir, "db") });
  const matrix = opts.matrix ?? new FakeMatrix();
  const party = new FakeParty();
  const virtualUsers = new VirtualUsers("webcall_", DOMAIN);
  const keys = await NodeKeys.open(store, DOMAIN, { rotateAfterMs: 0, oldKeyRetentionMs: 86_400_000, publishForMs: 86_400_000 });
  const deps: Core = {
    calls: { defaultLifetimeMs: 60_000, maxLifetimeMs: 120_000, neutralAnswerMs: 0, candidateBatchMs: 0 } as Core["calls"],
    rules: { decide: async () => ({ action: "ring", rule: null, by: "bridge_default" }), get: async (userId) => ({ userId, rules: [], defaultAction: null, timeZone: null, notifyRefused: false, version: 0 }) },
    maxForwardHops: 5, forwardBudgetMs: 1000, store, matrix, party, virtualUsers,
    localUsers: new LocalUsers(DOMAIN, (id) => virtualUsers.isVirtual(id)),
    keys, callers: { identify: async () => ({ identity: UNVERIFIED, chain: [] }) } as unknown as CallerCheck,
    self: { publicUrl: "http://127.0.0.1:1/webcall", domain: DOMAIN }, now: opts.now ?? Date.now, clock: new ManualClock(),
    ...(opts.rotas ? { rotas: opts.rotas } : {}),
  };
  const cores: CallCore[] = [new CallCore(deps)];
  return {
    core: cores[0]!, store, matrix, party, virtual: virtualUsers.userIdFor("alf@employer.com" as Address),
    async restart() {
      const next = new CallCore(deps);
      cores.push(next);
      await next.resume();
      return next;
    },
    async close() {
      for (const c of cores) await c.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let n = 0;
/** A typed Matrix call event, as the Matrix edge hands them to the core. */
export function callEvent<T extends CallEvent["type"]>(type: T, fields: Record<string, unknown>): MatrixEvent {
  return { type, eventId: `$e${++n}`, ageMs: 0, partyId: null, version: "1", ...fields } as unknown as MatrixEvent;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
