/** The browser globals js-sdk needs: installed, usable, harmless to the rest of the process, removed again. */
import { installWrtcGlobals, teardownWrtcGlobals, wrtcGlobalsInstalled } from "../support/wrtcGlobals";

describe("harness: wrtc globals", () => {
  afterAll(async () => {
    await teardownWrtcGlobals();
  });

  it("make js-sdk consider VoIP supported, give a live synthetic microphone, and go away on teardown", async () => {
    const { supportsMatrixCall } = await import("matrix-js-sdk/lib/webrtc/call.js");
    const g = globalThis as Record<string, any>;
    const setTimeoutBefore = g["setTimeout"];
    expect(supportsMatrixCall()).toBe(false);

    installWrtcGlobals();
    expect(wrtcGlobalsInstalled()).toBe(true);
    expect(supportsMatrixCall()).toBe(true);
    const devices = await g["navigator"].mediaDevices.enumerateDevices();
    expect(devices.map((d: MediaDeviceInfo) => d.kind)).toEqual(["audioinput"]);
    const stream: MediaStream = await g["navigator"].mediaDevices.getUserMedia({ audio: true });
    const [track] = stream.getAudioTracks();
    expect(track?.readyState).toBe("live");
    expect(track?.getSettings().deviceId).toBe(devices[0].deviceId);
    await expect(g["navigator"].mediaDevices.getUserMedia({ video: true })).rejects.toThrow(/not found/);
    const ctx = new g["AudioContext"]();
    const analyser = ctx.createAnalyser();
    ctx.createMediaStreamSource(stream).connect(analyser);
    expect(analyser.frequencyBinCount).toBe(1024);
    await ctx.close();

    await teardownWrtcGlobals();
    expect(track?.readyState).toBe("ended");
    expect(supportsMatrixCall()).toBe(false);
    expect("window" in globalThis).toBe(false);
    expect("RTCPeerConnection" in globalThis).toBe(false);
    expect(g["navigator"]?.mediaDevices).toBeUndefined();
    expect(g["setTimeout"]).toBe(setTimeoutBefore);
  });

  it("leave PGlite (the bridge's embedded store, same process in e2e tests) working", async () => {
    // PGlite's Emscripten loader reads window.location.pathname whenever a `window` exists.
    installWrtcGlobals();
    const { PGlite } = await import("@electric-sql/pglite");
    const db = new PGlite();
    try {
      expect((await db.query("select 1 as x")).rows).toEqual([{ x: 1 }]);
    } finally {
      await db.close();
    }
  });
});
