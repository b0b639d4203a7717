/**
 * A Matrix user's real client for call tests: matrix-js-sdk 43 (no crypto) with
 * real WebRTC from @roamhq/wrtc, able to place, ring, answer and hang up 1:1 calls.
 *
 * js-sdk behaviours tests must allow for (see also design.md):
 * - Calls are only handled after the initial sync: an invite that is already in the
 *   initial sync never rings (`startMatrixClient` resolves after that sync).
 * - It rings only for offers that carry audio; an offer with only a data channel is
 *   dropped without a trace.
 * - It drops invites older than `lifetime - 3 s` (age = event `age` + time since
 *   receipt), and an unanswered ring ends locally at `lifetime` without sending anything.
 * - It ignores invites whose `invitee` is someone else.
 * - On answer it waits ~200 ms for ICE gathering and puts its candidates in the
 *   answer SDP; later candidates go out in `m.call.candidates` batches (500 ms callee,
 *   2 s caller).
 * - Every call must have an `error` listener or js-sdk throws; this attaches one to
 *   every call it sees and records the errors in `callErrors`.
 * - It asks the homeserver for TURN (`/voip/turnServer`) before every call; with none
 *   it uses no ICE servers at all (host candidates only), which is what we want.
 */
import type { MatrixClient, MatrixEvent, Room } from "matrix-js-sdk" with { "resolution-mode": "import" };
import type { MatrixCall, CallState, CallErrorCode } from "matrix-js-sdk/lib/webrtc/call.js" with { "resolution-mode": "import" };
import { installWrtcGlobals } from "./wrtcGlobals";
import { MediaFlowOptions, MediaFlowReport, sleep, waitForMediaFlowing, withTimeout } from "./mediaStats";

type Sdk = typeof import("matrix-js-sdk", { with: { "resolution-mode": "import" } });
type CallModule = typeof import("matrix-js-sdk/lib/webrtc/call.js", { with: { "resolution-mode": "import" } });
type CallEventHandlerModule = typeof import("matrix-js-sdk/lib/webrtc/callEventHandler.js", { with: { "resolution-mode": "import" } });
type LoggerModule = typeof import("matrix-js-sdk/lib/logger.js", { with: { "resolution-mode": "import" } });

export type { MatrixCall, MatrixClient, MatrixEvent };
export type CallStateName = `${CallState}`;

interface Modules {
  sdk: Sdk;
  call: CallModule;
  callEventHandler: CallEventHandlerModule;
  logger: LoggerModule;
}
let modules: Promise<Modules> | undefined;

/** matrix-js-sdk is ESM-only: load it (and the deep modules with the enums) once. */
export function loadMatrixSdk(): Promise<Modules> {
  modules ??= (async () => {
    const [sdk, call, callEventHandler, logger] = await Promise.all([
      import("matrix-js-sdk"),
      import("matrix-js-sdk/lib/webrtc/call.js"),
      import("matrix-js-sdk/lib/webrtc/callEventHandler.js"),
      import("matrix-js-sdk/lib/logger.js"),
    ]);
    routeSdkLogging(logger);
    return { sdk, call, callEventHandler, logger };
  })();
  return modules;
}

// ---------------------------------------------------------------------------
// js-sdk logging: everything goes to a ring buffer (see `sdkLogTail()`), and to
// stderr from the level in MATRIX_SDK_LOG (trace|debug|info|warn|error|silent,
// default silent): js-sdk logs every WebRTC step at debug.

const LEVELS = ["trace", "debug", "info", "warn", "error", "silent"] as const;
type Level = (typeof LEVELS)[number];
const LOG_TAIL = 2000;
const logTail: string[] = [];

function levelIndex(l: string): number {
  const i = LEVELS.indexOf(l as Level);
  return i < 0 ? LEVELS.indexOf("silent") : i;
}

function routeSdkLogging(mod: LoggerModule): void {
  const printFrom = levelIndex(process.env["MATRIX_SDK_LOG"] ?? "silent");
  const root = mod.logger as unknown as {
    methodFactory: (method: string, level: number, name: string | symbol) => (...args: unknown[]) => void;
    setLevel(level: string, persist: boolean): void;
  };
  root.methodFactory = (method, _level, name) => function (this: { prefix?: string }, ...args: unknown[]) {
    const text = args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : typeof a === "string" ? a : safeJson(a))).join(" ");
    const line = `${new Date().toISOString()} ${method.toUpperCase()} ${String(name)}${this.prefix ? ` ${this.prefix}` : ""} ${text}`;
    logTail.push(line);
    if (logTail.length > LOG_TAIL) logTail.splice(0, logTail.length - LOG_TAIL);
    if (levelIndex(method === "log" ? "info" : method) >= printFrom) process.stderr.write(line + "\n");
  };
  root.setLevel("trace", false); // rebuilds with our factory; children copy it when created
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The last `n` js-sdk log lines (all clients in this test file), for failure messages. */
export function sdkLogTail(n = 50): string[] {
  return logTail.slice(-n);
}

// ---------------------------------------------------------------------------

export interface MatrixCallerOptions {
  baseUrl: string;
  userId: string;
  accessToken: string;
  deviceId: string;
  /** How long to wait for the first sync; default 10 s. */
  syncTimeoutMs?: number;
}

export interface WaitOptions {
  timeoutMs?: number;
}

export interface PlaceCallOptions {
  /** `invitee` of the m.call.invite; default: the one other member (joined or invited) of the room. */
  invitee?: string;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const POLL_MS = 25;

async function pollUntil<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await sleep(POLL_MS);
  }
}

export class MatrixCaller {
  /** Every call this client has seen: placed, incoming and glare successors. */
  readonly calls: MatrixCall[] = [];
  readonly callErrors: Array<{ call: MatrixCall; error: Error }> = [];
  private readonly incoming: MatrixCall[] = [];
  private readonly taken = new Set<MatrixCall>();
  /** Every live-timeline event since start (local echoes are updated in place when sent). */
  private readonly timeline: MatrixEvent[] = [];
  private readonly cleanups: Array<() => void> = [];
  private stopped = false;

  private constructor(
    readonly client: MatrixClient,
    private readonly mods: Modules,
  ) {}

  get userId(): string {
    return this.client.getUserId()!;
  }

  get deviceId(): string {
    return this.client.getDeviceId()!;
  }

  get sdk(): Sdk {
    return this.mods.sdk;
  }

  /** js-sdk's CallState enum values, e.g. `caller.CallState.Connected`. */
  get CallState(): CallModule["CallState"] {
    return this.mods.call.CallState;
  }

  /** @internal use startMatrixClient() */
  static async start(opts: MatrixCallerOptions): Promise<MatrixCaller> {
    installWrtcGlobals(); // before createClient: js-sdk decides there whether VoIP is supported
    const mods = await loadMatrixSdk();
    const { sdk } = mods;
    const client = sdk.createClient({
      baseUrl: opts.baseUrl,
      userId: opts.userId,
      accessToken: opts.accessToken,
      deviceId: opts.deviceId,
      useAuthorizationHeader: true,
      logger: mods.logger.logger.getChild(`[${opts.userId}/${opts.deviceId}]`),
    });
    if (!client.supportsVoip()) throw new Error("matrix-js-sdk reports VoIP unsupported (wrtc globals missing?)");
    const caller = new MatrixCaller(client, mods);
    caller.listen();
    const ready = new Promise<void>((resolve, reject) => {
      const onSync = (state: string): void => {
        if (state === sdk.SyncState.Prepared || state === sdk.SyncState.Syncing) {
          client.off(sdk.ClientEvent.Sync, onSync);
          resolve();
        } else if (state === sdk.SyncState.Error && !client.isInitialSyncComplete()) {
          client.off(sdk.ClientEvent.Sync, onSync);
          reject(new Error(`initial sync failed for ${opts.userId}`));
        }
      };
      client.on(sdk.ClientEvent.Sync, onSync);
    });
    try {
      await client.startClient({ initialSyncLimit: 10 });
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        ready,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no initial sync for ${opts.userId} within ${opts.syncTimeoutMs ?? 10_000} ms`)), opts.syncTimeoutMs ?? 10_000);
        }),
      ]).finally(() => clearTimeout(timer));
    } catch (e) {
      await caller.stop();
      throw e;
    }
    return caller;
  }

  private listen(): void {
    const { sdk, callEventHandler } = this.mods;
    const onIncoming = (call: MatrixCall): void => {
      this.track(call);
      this.incoming.push(call);
    };
    const onTimeline = (ev: MatrixEvent, _room: Room | undefined, toStart: boolean | undefined): void => {
      if (!toStart) this.timeline.push(ev);
    };
    this.client.on(callEventHandler.CallEventHandlerEvent.Incoming, onIncoming);
    this.client.on(sdk.RoomEvent.Timeline, onTimeline);
    this.cleanups.push(() => {
      this.client.off(callEventHandler.CallEventHandlerEvent.Incoming, onIncoming);
      this.client.off(sdk.RoomEvent.Timeline, onTimeline);
    });
  }

  /** Attaches our error/replaced listeners to a call (once). */
  private track(call: MatrixCall): void {
    if (this.calls.includes(call)) return;
    this.calls.push(call);
    const { CallEvent } = this.mods.call;
    const onError = (error: Error): void => {
      this.callErrors.push({ call, error });
    };
    const onReplaced = (newCall: MatrixCall): void => this.track(newCall);
    call.on(CallEvent.Error, onError);
    call.on(CallEvent.Replaced, onReplaced);
    this.cleanups.push(() => {
      call.off(CallEvent.Error, onError);
      call.off(CallEvent.Replaced, onReplaced);
    });
  }

  private describe(call: MatrixCall): string {
    const errors = this.callErrors.filter((e) => e.call === call).map((e) => e.error.message);
    return `call ${call.callId} state=${call.state} hangupReason=${call.hangupReason ?? "-"}${errors.length ? ` errors=${errors.join("; ")}` : ""}`;
  }

  /** The next incoming call not yet returned by this method (calls that rang before the wait count). */
  async waitForIncomingCall(opts: WaitOptions & { roomId?: string } = {}): Promise<MatrixCall> {
    const call = await pollUntil(
      () => this.incoming.find((c) => !this.taken.has(c) && (!opts.roomId || c.roomId === opts.roomId)),
      opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      () => `an incoming call for ${this.userId}${opts.roomId ? ` in ${opts.roomId}` : ""}`,
    );
    this.taken.add(call);
    return call;
  }

  /** Answers a ringing call with the synthetic microphone. */
  async answer(call: MatrixCall): Promise<void> {
    if (call.state !== this.CallState.Ringing) throw new Error(`cannot answer: ${this.describe(call)}`);
    await call.answer(true, false);
  }

  /** Rejects a ringing call (m.call.reject; m.call.hangup to a v0 invite) and waits until it is sent. */
  async reject(call: MatrixCall, opts: WaitOptions = {}): Promise<void> {
    call.reject();
    await this.waitForOwnCallEvent(call, ["m.call.reject", "m.call.hangup"], opts.timeoutMs);
  }

  /** Hangs up (default reason user_hangup) and waits until the m.call.hangup is sent. */
  async hangup(call: MatrixCall, reason?: CallErrorCode | `${CallErrorCode}`, opts: WaitOptions = {}): Promise<void> {
    call.hangup((reason as CallErrorCode | undefined) ?? this.mods.call.CallErrorCode.UserHangup, false);
    await this.waitForOwnCallEvent(call, ["m.call.hangup"], opts.timeoutMs);
  }

  private waitForOwnCallEvent(call: MatrixCall, types: string[], timeoutMs = 5000): Promise<MatrixEvent> {
    return this.waitForRoomEvent(call.roomId, types, (ev) => ev.getSender() === this.userId && ev.getContent()["call_id"] === call.callId, { timeoutMs });
  }

  /** Places a voice call in the room, with `invitee` set. Resolves once js-sdk has started it (see `waitForCallState`). */
  async placeCall(roomId: string, opts: PlaceCallOptions = {}): Promise<MatrixCall> {
    const invitee = opts.invitee ?? this.otherMember(roomId);
    const call = this.mods.sdk.createNewMatrixCall(this.client, roomId, { invitee });
    if (!call) throw new Error("matrix-js-sdk could not create a call (VoIP unsupported)");
    this.track(call);
    await call.placeVoiceCall();
    return call;
  }

  private otherMember(roomId: string): string {
    const room = this.client.getRoom(roomId);
    if (!room) throw new Error(`${this.userId} does not know room ${roomId}`);
    const others = room.getMembers().filter((m) => m.userId !== this.userId && (m.membership === "join" || m.membership === "invite"));
    if (others.length !== 1) throw new Error(`cannot pick an invitee in ${roomId}: ${others.length} other members; pass opts.invitee`);
    return others[0]!.userId;
  }

  /** Resolves when the call is in `state`; rejects if it ends first (unless waiting for "ended") or on timeout. */
  async waitForCallState(call: MatrixCall, state: CallState | CallStateName, opts: WaitOptions = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    await pollUntil(
      () => {
        if (call.state === state) return true;
        if (call.state === this.CallState.Ended) throw new Error(`call ended while waiting for "${state}": ${this.describe(call)}`);
        return false;
      },
      timeoutMs,
      () => `state "${state}" of ${this.describe(call)}`,
    );
  }

  /**
   * Proves media: the call's peer connection is connected, has a live remote audio
   * track and receives audio bytes that keep growing.
   */
  async waitForMediaFlowing(call: MatrixCall, opts: MediaFlowOptions = {}): Promise<MediaFlowReport> {
    try {
      return await waitForMediaFlowing(() => call.peerConn, opts);
    } catch (e) {
      throw new Error(`${(e as Error).message}; ${this.describe(call)}`);
    }
  }

  /** Joins and waits until the client's own sync shows the join (so call events in it are seen). */
  async joinRoom(roomId: string, opts: WaitOptions = {}): Promise<void> {
    await this.client.joinRoom(roomId);
    await pollUntil(() => this.client.getRoom(roomId)?.getMyMembership() === "join", opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, () => `${this.userId} joined to ${roomId}`);
  }

  /** The id of a room this user is invited to (that room, if given). */
  waitForInvite(roomId?: string, opts: WaitOptions = {}): Promise<string> {
    return pollUntil(
      () => this.client.getRooms().find((r) => r.getMyMembership() === "invite" && (!roomId || r.roomId === roomId))?.roomId,
      opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      () => `an invite for ${this.userId}${roomId ? ` to ${roomId}` : ""}`,
    );
  }

  /**
   * The first event of `type` (or one of the types) in the room's live timeline since
   * the client started (or still in the timeline), sent (not a local echo), matching
   * `predicate`.
   */
  waitForRoomEvent(roomId: string, type: string | string[], predicate: (ev: MatrixEvent) => boolean = () => true, opts: WaitOptions = {}): Promise<MatrixEvent> {
    const types = Array.isArray(type) ? type : [type];
    const matches = (ev: MatrixEvent): boolean =>
      ev.getRoomId() === roomId && types.includes(ev.getType()) && !ev.status && (ev.getId()?.startsWith("$") ?? false) && predicate(ev);
    return pollUntil(
      () => this.timeline.find(matches) ?? this.client.getRoom(roomId)?.getLiveTimeline().getEvents().find(matches),
      opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      () => `a ${types.join("/")} event in ${roomId} for ${this.userId}`,
    );
  }

  /**
   * Stops the client and releases everything: live calls end locally (nothing is sent
   * unless `hangUpCalls`), their peer connections close, local media stops, our
   * listeners go, the sync loop stops, and every reference to wrtc objects is dropped
   * (`calls` and `callErrors` are empty afterwards; see `releaseWrtcObjects`). Stop
   * callers before the homeserver.
   */
  async stop(opts: { hangUpCalls?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const { CallState, CallErrorCode } = this.mods.call;
    if (opts.hangUpCalls) {
      for (const call of this.calls) {
        if (call.state === CallState.Ended) continue;
        try {
          if (call.state === CallState.Ringing) await this.reject(call, { timeoutMs: 2000 });
          else await this.hangup(call, undefined, { timeoutMs: 2000 });
        } catch {
          // ending locally below anyway
        }
      }
    }
    await this.endCallsLocally(CallErrorCode.UserHangup);
    await this.settleTerminations();

    const handler = this.client.callEventHandler as unknown as { eventBufferPromiseChain?: Promise<void>; calls: Map<string, MatrixCall> } | undefined;
    this.client.stopClient();
    // An invite being processed when we stopped can still create a call: let it finish, then end it.
    if (handler?.eventBufferPromiseChain) await withTimeout(handler.eventBufferPromiseChain, 2000, "js-sdk's call event queue").catch(() => undefined);
    for (const call of handler?.calls.values() ?? []) if (!this.calls.includes(call)) this.calls.push(call);
    await this.endCallsLocally(CallErrorCode.UserHangup);

    const mediaHandler = this.client.getMediaHandler();
    mediaHandler.stopAllStreams();
    while (this.cleanups.length) this.cleanups.pop()!();
    this.releaseWrtcObjects(mediaHandler);
  }

  /**
   * Drops every reference this caller (and its stopped js-sdk client) still has to
   * wrtc objects, so the garbage collection in `teardownWrtcGlobals()` can free them.
   *
   * Why: wrtc's native objects (peer connections, transceivers, senders, tracks,
   * streams) must be collected while Node is still running. One still reachable when
   * Node tears down is finalized during environment cleanup, where wrtc's finalizers
   * touch V8 without a handle scope: SIGSEGV / abort after the tests have passed.
   * A stopped MatrixCaller is often still referenced (e.g. a `let` in a describe
   * block), so it must not keep its calls (each holds its RTCPeerConnection and
   * transceivers) nor let js-sdk keep its cached getUserMedia stream
   * (`MediaHandler.getMediaStreamPromise`, which `stopAllStreams()` leaves set).
   * After stop(), `calls`, `callErrors` and the recorded timeline are empty.
   */
  private releaseWrtcObjects(mediaHandler: ReturnType<MatrixClient["getMediaHandler"]>): void {
    this.calls.length = 0;
    this.callErrors.length = 0;
    this.incoming.length = 0;
    this.taken.clear();
    this.timeline.length = 0;
    (mediaHandler as unknown as { getMediaStreamPromise?: Promise<MediaStream> }).getMediaStreamPromise = undefined;
  }

  /**
   * js-sdk's terminate() sets state "ended" at once but only closes the peer
   * connection after an await (stats), and its last step dereferences
   * `client.callEventHandler`, which stopClient() clears: a call that ended just
   * before stop() (e.g. the remote hung up) would then throw an unhandled TypeError.
   * The rest of terminate() runs synchronously after `peerConn.close()`, so wait for that.
   */
  private async settleTerminations(): Promise<void> {
    const unsettled = (): boolean => this.calls.some((c) => c.state === this.CallState.Ended && c.peerConn !== undefined && c.peerConn.signalingState !== "closed");
    const deadline = Date.now() + 2000;
    while (unsettled() && Date.now() < deadline) await sleep(POLL_MS);
  }

  private async endCallsLocally(reason: CallErrorCode): Promise<void> {
    const { CallState, CallParty } = this.mods.call;
    for (const call of this.calls) {
      if (call.state === CallState.Ended) continue;
      try {
        // terminate() is js-sdk's local end of a call (closes the peer connection, stops media); it sends nothing.
        await (call as unknown as { terminate(p: unknown, r: CallErrorCode, emit: boolean): Promise<void> }).terminate(CallParty.Local, reason, false);
      } catch {
        // After stopClient() terminate() throws on the missing callEventHandler, having already cleaned up.
      }
      call.peerConn?.close();
    }
  }
}

/** Starts a js-sdk client for the user (VoIP on, no crypto) and resolves after its first sync. */
export function startMatrixClient(opts: MatrixCallerOptions): Promise<MatrixCaller> {
  return MatrixCaller.start(opts);
}
