/**
 * Real WebRTC in Node for tests: @roamhq/wrtc plus the few browser globals
 * matrix-js-sdk probes before it will place or answer a call.
 *
 * What js-sdk 43 needs (read from webrtc/call.ts, callFeed.ts, mediaHandler.ts):
 * - `supportsMatrixCall()` returns false unless `window` and `document` exist and
 *   one of `window.RTCPeerConnection`, `window.RTCSessionDescription`,
 *   `window.RTCIceCandidate`, `navigator.mediaDevices` is truthy. It is checked when
 *   the MatrixClient is *constructed* (no CallEventHandler otherwise) and again for
 *   every call, so install these before `createClient()`.
 * - `new window.RTCPeerConnection(...)`, bare `RTCRtpSender.getCapabilities` /
 *   `RTCRtpReceiver.getCapabilities` (called on every offer and answer).
 * - `navigator.mediaDevices.enumerateDevices()` (it only asks for audio when an
 *   `audioinput` device is listed) and `getUserMedia()`; it reads
 *   `track.getSettings().deviceId` and clones streams.
 * - `new AudioContext()` for every CallFeed with audio (volume metering):
 *   `createAnalyser()`, `createMediaStreamSource(stream).connect()`, `close()`.
 *
 * - (Not a probe, but needed for a clean exit: see `unrefMatrixSdkLongTimers`.)
 *
 * Synthetic audio comes from one `wrtc.nonstandard.RTCAudioSource` fed 10 ms frames
 * on an interval.
 *
 * Clean exit: wrtc's native objects must be garbage-collected while Node is still
 * running. Whatever is still alive when Node tears down is finalized during
 * environment cleanup, and wrtc's finalizers are not safe there: e.g. an
 * RTCRtpTransceiver's destructor releases its sender's N-API reference, fails, and
 * builds a JS error without a handle scope (SIGSEGV, or SIGABRT, after "Tests: n
 * passed"). The same goes for an RTCAudioSource that has created a track. A closed
 * RTCPeerConnection (and its data channels, tracks) is also kept alive by wrtc itself
 * until its "closed" event has gone through the event loop, which can be well after
 * `close()` returns. So `teardownWrtcGlobals()` drops the audio source, closes any
 * peer connection still open, waits until every peer connection and data channel
 * made through this module (`createPeerConnection()`, and js-sdk's through the global
 * `RTCPeerConnection`) has been collected, and fails with their names if something
 * still references one: a suite must not keep wrtc objects (a stopped client's calls,
 * a closed WebCallCaller in a `let`) past its teardown. Always call it (afterAll),
 * after every client and peer connection has been stopped and dropped.
 */
import v8 from "node:v8";
import vm from "node:vm";
import * as wrtc from "@roamhq/wrtc";

export { wrtc };

/** "tone" (default): a quiet 440 Hz sine, so Opus (js-sdk enables DTX) keeps sending
 *  full packets and byte counters grow steadily. "silence": all-zero frames. */
export type SyntheticSignal = "tone" | "silence";

const SAMPLE_RATE = 48_000;
const FRAME_MS = 10;
const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;
const TONE_HZ = 440;
const TONE_AMPLITUDE = 1200;

/** The device id wrtc reports in `track.getSettings()` for source-created tracks. */
const SYNTHETIC_DEVICE_ID = "FakeAudioDevice";

interface AudioFeeder {
  source: InstanceType<typeof wrtc.nonstandard.RTCAudioSource> | null;
  interval: ReturnType<typeof setInterval>;
  tracks: Set<MediaStreamTrack>;
}

let feeder: AudioFeeder | undefined;
let signal: SyntheticSignal = "tone";

function startFeeder(): AudioFeeder {
  if (feeder) return feeder;
  const source = new wrtc.nonstandard.RTCAudioSource();
  const silence = new Int16Array(FRAME_SAMPLES);
  const tone = new Int16Array(FRAME_SAMPLES);
  let phase = 0;
  const f: AudioFeeder = {
    source,
    tracks: new Set(),
    interval: setInterval(() => {
      if (!f.source) return;
      let samples = silence;
      if (signal === "tone") {
        for (let i = 0; i < FRAME_SAMPLES; i++) {
          tone[i] = Math.round(TONE_AMPLITUDE * Math.sin(phase));
          phase += (2 * Math.PI * TONE_HZ) / SAMPLE_RATE;
        }
        phase %= 2 * Math.PI;
        samples = tone;
      }
      f.source.onData({ samples, sampleRate: SAMPLE_RATE, bitsPerSample: 16, channelCount: 1, numberOfFrames: FRAME_SAMPLES });
    }, FRAME_MS),
  };
  feeder = f;
  return f;
}

/** Stops the interval and every track handed out, and drops the source. */
function stopFeeder(): void {
  if (!feeder) return;
  clearInterval(feeder.interval);
  for (const t of feeder.tracks) if (t.readyState !== "ended") t.stop();
  feeder.tracks.clear();
  feeder.source = null;
  feeder = undefined;
}

/** A live audio track carrying the synthetic signal. Stopped by `teardownWrtcGlobals()` at the latest. */
export function createSyntheticAudioTrack(): MediaStreamTrack {
  const f = startFeeder();
  const track = f.source!.createTrack();
  f.tracks.add(track);
  return track;
}

/** A stream with one synthetic audio track. */
export function createSyntheticAudioStream(): MediaStream {
  return new wrtc.MediaStream([createSyntheticAudioTrack()]);
}

// ---------------------------------------------------------------------------
// Peer connections and data channels made through this module, so teardown can
// wait until wrtc has let go of them and they are collected (see the file comment).

interface TrackedWrtcObject {
  ref: WeakRef<object>;
  what: string;
  /** For peer connections: whether the "closed" signalingstatechange event has been dispatched. */
  closedEventSeen?: boolean;
}

const trackedObjects = new Set<TrackedWrtcObject>();
let trackedSeq = 0;

function trackWrtcObject(obj: object, kind: string, detail?: string): TrackedWrtcObject {
  const entry: TrackedWrtcObject = { ref: new WeakRef(obj), what: `${kind} #${++trackedSeq}${detail ? ` ${detail}` : ""}` };
  trackedObjects.add(entry);
  return entry;
}

/** wrtc's RTCPeerConnection, registered (weakly) with teardown together with its data channels. */
class TrackedRTCPeerConnection extends wrtc.RTCPeerConnection {
  constructor(configuration?: RTCConfiguration, what = "global RTCPeerConnection (js-sdk)") {
    super(configuration);
    const entry = trackWrtcObject(this, what);
    const pcName = entry.what;
    entry.closedEventSeen = false;
    // wrtc releases its own hold on the connection right after dispatching this event.
    this.addEventListener("signalingstatechange", () => {
      if (this.signalingState === "closed") entry.closedEventSeen = true;
    });
    this.addEventListener("datachannel", (ev: RTCDataChannelEvent) => {
      trackWrtcObject(ev.channel, "data channel", `"${ev.channel.label}" received by ${pcName}`);
    });
  }

  override createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel {
    const channel = super.createDataChannel(label, init);
    trackWrtcObject(channel, "data channel", `"${label}"`);
    return channel;
  }
}

/**
 * A wrtc RTCPeerConnection that `teardownWrtcGlobals()` knows about. Test helpers make
 * theirs with this (js-sdk gets the same class as the global RTCPeerConnection).
 */
export function createPeerConnection(configuration?: RTCConfiguration, what = "peer connection"): RTCPeerConnection {
  return new TrackedRTCPeerConnection(configuration, what);
}

/** How long teardown waits for wrtc to let go of closed connections before it fails. */
// wrtc dispatches a closed connection's close event from its own thread; on a busy two-core
// machine (a CI run beside other work) that took over 5 s once.
const RELEASE_TIMEOUT_MS = 15_000;

/*
 * Everything that touches a wrtc object during teardown runs in small synchronous
 * functions, never in an async function's own body: a suspended async function keeps
 * its interpreter registers, and a stale register holding the last object a loop saw
 * keeps that object alive for as long as the function is suspended.
 */

/** Closes tracked peer connections nobody closed. */
function closeOpenPeerConnections(): void {
  for (const entry of trackedObjects) {
    const obj = entry.ref.deref();
    if (obj instanceof TrackedRTCPeerConnection && obj.signalingState !== "closed") obj.close();
  }
}

/** Collects garbage and forgets what was collected; returns how many tracked objects are still alive. */
function sweepTrackedObjects(): number {
  forceGc();
  for (const entry of trackedObjects) if (entry.ref.deref() === undefined) trackedObjects.delete(entry);
  return trackedObjects.size;
}

function describeTrackedObjects(): string {
  return [...trackedObjects].map((entry) => {
    const obj = entry.ref.deref() as Partial<RTCPeerConnection & RTCDataChannel> | undefined;
    const state = !obj ? "collected"
      : obj.readyState !== undefined ? `readyState ${obj.readyState}`
      : `signalingState ${obj.signalingState}${entry.closedEventSeen ? "" : ", closed event not dispatched yet"}`;
    return `${entry.what} (${state})`;
  }).join(", ");
}

/**
 * Closes tracked peer connections nobody closed, then collects garbage until every
 * tracked object is gone. Throws, naming them, if some are still alive at the deadline.
 */
async function collectTrackedObjects(): Promise<void> {
  closeOpenPeerConnections();
  const deadline = Date.now() + RELEASE_TIMEOUT_MS;
  // deref() keeps its target alive until the current task ends, so every round starts in a new one.
  while (sweepTrackedObjects() > 0) {
    if (Date.now() > deadline) {
      const left = describeTrackedObjects();
      trackedObjects.clear();
      throw new Error(
        `wrtc objects still alive ${RELEASE_TIMEOUT_MS} ms into teardownWrtcGlobals(): ${left}. ` +
        "Something still references them (a stopped client's calls, a closed WebCallCaller kept in a variable); " +
        "Node would crash finalizing them at exit.",
      );
    }
    // Let wrtc dispatch pending "closed" events and run its handle-close callbacks.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

class StubAudioContext {
  state: "running" | "closed" = "running";
  readonly sampleRate = SAMPLE_RATE;
  readonly currentTime = 0;
  createAnalyser(): object {
    const analyser = {
      fftSize: 2048,
      smoothingTimeConstant: 0.8,
      get frequencyBinCount(): number {
        return analyser.fftSize / 2;
      },
      getFloatFrequencyData(into: Float32Array): void {
        into.fill(-Infinity);
      },
      connect(): void {},
      disconnect(): void {},
    };
    return analyser;
  }
  createMediaStreamSource(): object {
    return { connect(): void {}, disconnect(): void {} };
  }
  createGain(): object {
    return { gain: { value: 1 }, connect(): void {}, disconnect(): void {} };
  }
  resume(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.state = "closed";
    return Promise.resolve();
  }
}

const mediaDevices = {
  async enumerateDevices(): Promise<MediaDeviceInfo[]> {
    const info = { deviceId: SYNTHETIC_DEVICE_ID, groupId: "FakeDeviceGroup", kind: "audioinput" as const, label: "Synthetic audio" };
    return [{ ...info, toJSON: () => info }];
  },
  async getUserMedia(constraints?: MediaStreamConstraints): Promise<MediaStream> {
    if (!constraints?.audio) {
      const err = new Error("Requested device not found (the test harness only has a synthetic microphone)");
      err.name = "NotFoundError";
      throw err;
    }
    return createSyntheticAudioStream();
  },
  async getDisplayMedia(): Promise<MediaStream> {
    const err = new Error("No screen sharing in the test harness");
    err.name = "NotAllowedError";
    throw err;
  },
  getSupportedConstraints(): MediaTrackSupportedConstraints {
    return { deviceId: true };
  },
  addEventListener(): void {},
  removeEventListener(): void {},
};

/** Every global property we replaced, with what was there before (undefined = nothing). */
const restores: Array<() => void> = [];
let installed = false;

function defineOn(target: object, name: string, value: unknown): void {
  const previous = Object.getOwnPropertyDescriptor(target, name);
  Object.defineProperty(target, name, { value, configurable: true, writable: true, enumerable: false });
  restores.push(() => {
    if (previous) Object.defineProperty(target, name, previous);
    else delete (target as Record<string, unknown>)[name];
  });
}

/**
 * Installs (once; later calls do nothing) what matrix-js-sdk needs for VoIP in Node.
 * Call before `createClient()`.
 */
export function installWrtcGlobals(opts: { signal?: SyntheticSignal } = {}): void {
  if (opts.signal) signal = opts.signal;
  if (installed) return;
  installed = true;
  const g = globalThis as Record<string, unknown>;

  // `window` inherits every global (as in a browser, where window === globalThis) and
  // adds a `location`: code in the same process that sees a `window` may read
  // `window.location` (PGlite's Emscripten loader does, and throws without it).
  defineOn(g, "window", Object.create(globalThis, {
    location: { value: { href: "http://localhost/", origin: "http://localhost", protocol: "http:", host: "localhost", hostname: "localhost", port: "", pathname: "/", search: "", hash: "" }, enumerable: true },
  }));
  defineOn(g, "document", {
    visibilityState: "visible",
    hidden: false,
    addEventListener(): void {},
    removeEventListener(): void {},
  });
  defineOn(g, "RTCPeerConnection", TrackedRTCPeerConnection);
  defineOn(g, "RTCSessionDescription", wrtc.RTCSessionDescription);
  defineOn(g, "RTCIceCandidate", wrtc.RTCIceCandidate);
  defineOn(g, "RTCRtpSender", wrtc.RTCRtpSender);
  defineOn(g, "RTCRtpReceiver", wrtc.RTCRtpReceiver);
  defineOn(g, "RTCRtpTransceiver", wrtc.RTCRtpTransceiver);
  defineOn(g, "RTCDataChannel", wrtc.RTCDataChannel);
  defineOn(g, "MediaStream", wrtc.MediaStream);
  defineOn(g, "MediaStreamTrack", wrtc.MediaStreamTrack);
  defineOn(g, "AudioContext", StubAudioContext);

  // Node 22+ has a global `navigator` (without mediaDevices); add ours to it.
  const nav = g["navigator"];
  if (nav && typeof nav === "object") defineOn(nav, "mediaDevices", mediaDevices);
  else defineOn(g, "navigator", { userAgent: "node", mediaDevices });

  unrefMatrixSdkLongTimers();
}

/**
 * matrix-js-sdk 43 leaves timers behind that keep Node (and jest) alive long after
 * `stopClient()`: `http-api/utils.ts#timeoutSignal` never clears its setTimeout (one
 * per request, up to 110 s for sync long polls), and `ServerCapabilities.poll`
 * re-arms its 6 h refresh when a fetch completes after `stop()`. Long (>= 30 s)
 * timers created from inside matrix-js-sdk are therefore unref'd: they still fire
 * while the process is alive, they just don't keep it alive. Nothing else is touched.
 */
function unrefMatrixSdkLongTimers(): void {
  const g = globalThis as { setTimeout: typeof setTimeout };
  const real = g.setTimeout as unknown as (...a: unknown[]) => ReturnType<typeof setTimeout>;
  const wrapped = function (this: unknown, handler: unknown, ms?: unknown, ...rest: unknown[]) {
    const timer = real.call(this, handler, ms, ...rest);
    if (typeof ms === "number" && ms >= 30_000 && /[\\/]matrix-js-sdk[\\/]/.test(new Error().stack ?? "")) timer.unref?.();
    return timer;
  };
  defineOn(g, "setTimeout", Object.assign(wrapped, real));
}

/** Whether `installWrtcGlobals()` is in effect. */
export function wrtcGlobalsInstalled(): boolean {
  return installed;
}

let gcFn: (() => void) | undefined;
function forceGc(): void {
  if (!gcFn) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) gcFn = exposed;
    else {
      v8.setFlagsFromString("--expose-gc");
      gcFn = vm.runInNewContext("gc") as () => void;
    }
  }
  gcFn();
}

/**
 * Stops the synthetic audio (interval and every track handed out), restores the
 * globals, closes tracked peer connections still open and collects the audio source
 * and every tracked peer connection and data channel, failing if one stays alive (see
 * the file comment for why). Safe to call more than once. Call after all
 * clients/callers are stopped.
 */
export async function teardownWrtcGlobals(): Promise<void> {
  stopFeeder();
  while (restores.length) restores.pop()!();
  installed = false;
  signal = "tone";
  await collectTrackedObjects();
  // N-API finalizers may run on a later tick; give them one, then collect again.
  await new Promise((resolve) => setImmediate(resolve));
  forceGc();
}
