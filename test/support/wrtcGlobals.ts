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
 * on an interval. wrtc crashes the process (SIGSEGV at exit) if an RTCAudioSource that
 * has created a track is still alive when Node tears down, so `teardownWrtcGlobals()`
 * drops the source and forces a garbage collection. Always call it (afterAll), after
 * every client and peer connection has been stopped.
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
  defineOn(g, "RTCPeerConnection", wrtc.RTCPeerConnection);
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
 * globals and collects the audio source (see the file comment for why). Safe to call
 * more than once. Call after all clients/callers are stopped.
 */
export async function teardownWrtcGlobals(): Promise<void> {
  if (feeder) {
    clearInterval(feeder.interval);
    for (const t of feeder.tracks) if (t.readyState !== "ended") t.stop();
    feeder.tracks.clear();
    feeder.source = null;
    feeder = undefined;
    forceGc();
    // N-API finalizers may run on a later tick; give them one, then collect again.
    await new Promise((resolve) => setImmediate(resolve));
    forceGc();
  }
  while (restores.length) restores.pop()!();
  installed = false;
  signal = "tone";
}
