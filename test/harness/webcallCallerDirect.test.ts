/** The WebCall caller harness against a second wrtc peer, no network signalling. */
import { teardownWrtcGlobals } from "../support/wrtcGlobals";
import { WebCallCaller, candidatesInSdp, forceSetupActive } from "../support/webcallCaller";

describe("harness: WebCallCaller peer to peer", () => {
  const open: WebCallCaller[] = [];
  const make = (...args: ConstructorParameters<typeof WebCallCaller>): WebCallCaller => {
    const c = new WebCallCaller(...args);
    open.push(c);
    return c;
  };

  afterEach(() => {
    while (open.length) open.pop()!.close();
  });
  afterAll(async () => {
    await teardownWrtcGlobals();
  });

  it("offers with setup:active, gets answered, the data channel opens and a message round-trips", async () => {
    const caller = make({ setupActive: true });
    const callee = make();

    const offer = await caller.offer();
    expect(offer.type).toBe("offer");
    expect(offer.sdp).toMatch(/^m=audio /m);
    expect(offer.sdp).toMatch(/^m=application /m);
    expect(offer.sdp).toMatch(/^a=candidate:/m);
    expect(offer.sdp).toMatch(/^a=setup:active\r?$/m);
    expect(offer.sdp).not.toMatch(/a=setup:actpass/);
    // libwebrtc insists on actpass locally; the answer's passive makes us the DTLS client as announced.
    expect(caller.pc.localDescription?.sdp).toMatch(/^a=setup:actpass\r?$/m);

    const answer = await callee.answerOffer(offer);
    expect(answer.type).toBe("answer");
    expect(answer.sdp).toMatch(/^a=setup:passive\r?$/m);
    expect(answer.sdp).toMatch(/^a=candidate:/m);
    await caller.acceptAnswer(answer);

    await Promise.all([caller.waitConnected({ ping: true }), callee.waitConnected({ ping: true })]);
    callee.send("hello from the callee");
    expect(await caller.nextMessage((m) => m.startsWith("hello"))).toBe("hello from the callee");
    caller.send("hello back");
    expect(await callee.nextMessage((m) => m.startsWith("hello"))).toBe("hello back");

    const [a, b] = await Promise.all([caller.waitForMediaFlowing(), callee.waitForMediaFlowing()]);
    expect(a.connectionState).toBe("connected");
    expect(a.bytesReceived).toBeGreaterThan(0);
    expect(b.bytesReceived).toBeGreaterThan(0);
  });

  it("trickles candidates when asked to", async () => {
    const caller = make({ trickle: true });
    const callee = make({ trickle: true });
    const offer = await caller.offer();
    expect(offer.sdp).toMatch(/a=setup:actpass/);
    const answer = await callee.answerOffer(offer);
    await caller.acceptAnswer(answer);

    const pipe = async (from: WebCallCaller, to: WebCallCaller): Promise<number> => {
      let n = 0;
      for await (const c of from.localCandidates()) {
        await to.addRemoteCandidates([c]);
        n++;
      }
      return n;
    };
    const piped = Promise.all([pipe(caller, callee), pipe(callee, caller)]);
    await Promise.all([caller.waitConnected({ ping: true }), callee.waitConnected({ ping: true })]);
    const [sentByCaller, sentByCallee] = await piped;
    expect(sentByCaller).toBeGreaterThan(1); // at least one candidate + the end marker
    expect(sentByCallee).toBeGreaterThan(1);
    expect(caller.localCandidateList.at(-1)).toEqual({ candidate: "" });
  });

  it("answers an offer after having made its own (glare: continue in the winner's call)", async () => {
    const webcall = make({ setupActive: true });
    const other = make();
    await webcall.offer(); // our offer lost; the other side's offer wins
    const winning = await other.offer();
    const answer = await webcall.answerOffer(winning);
    await other.acceptAnswer(answer);
    await Promise.all([webcall.waitConnected({ ping: true }), other.waitConnected({ ping: true })]);
    await webcall.waitForMediaFlowing();
  });

  it("rewrites only the setup line", () => {
    const sdp = "v=0\r\na=setup:actpass\r\na=mid:0\r\na=setup:actpass\r\n";
    expect(forceSetupActive(sdp)).toBe("v=0\r\na=setup:active\r\na=mid:0\r\na=setup:active\r\n");
  });

  it("reads candidates out of an SDP with their m-section", () => {
    const sdp = "v=0\r\nm=audio 9 X\r\na=candidate:1 1 udp 1 127.0.0.1 1 typ host\r\na=mid:0\r\nm=application 9 Y\r\na=mid:1\r\na=candidate:2 1 udp 1 ::1 2 typ host\r\n";
    expect(candidatesInSdp(sdp)).toEqual([
      { candidate: "candidate:1 1 udp 1 127.0.0.1 1 typ host", sdpMid: "0", sdpMLineIndex: 0 },
      { candidate: "candidate:2 1 udp 1 ::1 2 typ host", sdpMid: "1", sdpMLineIndex: 1 },
    ]);
  });
});
