/**
 * A WebCall caller's media side in Node (not a Matrix client): one wrtc
 * RTCPeerConnection with a synthetic audio track and a data channel.
 *
 * Signalling is left to the test (POST /webcall, session events): this only makes and
 * takes SDP and candidates in the WebCall/1 shapes (`{type, sdp}`,
 * `{candidate, sdpMid?, sdpMLineIndex?}` with `candidate: ""` = end of candidates).
 *
 * Every WebCallCaller answers `ping:<n>` on its data channel with `pong:<n>`, so two
 * of them (or one and a peer built on it) can prove a round trip.
 */
import { createPeerConnection, createSyntheticAudioTrack, wrtc } from "./wrtcGlobals";
import { isConnected, mediaFlowReport, MediaFlowOptions, MediaFlowReport, sleep, waitForMediaFlowing, withTimeout } from "./mediaStats";

export interface SessionDescription {
  type: "offer" | "answer";
  sdp: string;
}

export interface CandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

export interface WebCallCallerOptions {
  /**
   * Send our offers with `a=setup:active` instead of `a=setup:actpass`. Default false.
   *
   * Why: with `actpass` the answerer takes the DTLS client role and starts the
   * handshake as soon as its ICE connects. When one offer is answered by several
   * devices (a Matrix user ringing on two clients), each of them starts a DTLS
   * handshake towards our single transport; libwebrtc can then replay the losing
   * device's early handshake into the chosen one and the call fails or stalls at
   * random. With `active` we are the DTLS client: every answerer must answer
   * `passive` and wait, and we only shake hands over the pair ICE selected.
   *
   * Consistency: libwebrtc refuses a *local* offer with `active` once the answer is
   * applied ("Offerer must use actpass value for setup attribute"), so the local
   * description keeps `actpass` and only the SDP we hand out (`offer()`'s result) says
   * `active`. The answerer then answers `passive`, and applying that answer makes our
   * side the DTLS client: both ends agree on the roles the sent offer announced.
   */
  setupActive?: boolean;
  /** ICE servers; default none (host candidates over loopback are enough here). */
  iceServers?: RTCIceServer[];
  /**
   * false (default): `offer()`/`answerOffer()` wait for ICE gathering to complete, so
   * the SDP carries every candidate. true: return at once and trickle them through
   * `onLocalCandidate` / `localCandidates()`.
   */
  trickle?: boolean;
  /** Data channel label for offers we make; default "webcall". */
  dataChannelLabel?: string;
  /** Add the synthetic audio track (default true). */
  audio?: boolean;
  /** Max wait for ICE gathering when not trickling; default 5000 ms. */
  gatherTimeoutMs?: number;
}

const END_OF_CANDIDATES: CandidateInit = { candidate: "" };

export class WebCallCaller {
  private _pc: RTCPeerConnection;
  private _dc: RTCDataChannel | undefined;
  private localTrack: MediaStreamTrack | undefined;
  private readonly candidates: CandidateInit[] = [];
  private candidatesEnded = false;
  private readonly candidateKeys = new Set<string>();
  private readonly candidateListeners = new Set<(c: CandidateInit) => void>();
  /** Resolvers of `localCandidates()` streams waiting for the next candidate or close. */
  private readonly candidateWakers = new Set<() => void>();
  private readonly messages: string[] = [];
  private readonly messageWaiters = new Set<() => void>();
  private pingSeq = 0;
  private closed = false;

  constructor(readonly options: WebCallCallerOptions = {}) {
    this._pc = this.createPeerConnection();
  }

  get pc(): RTCPeerConnection {
    return this._pc;
  }

  get dataChannel(): RTCDataChannel | undefined {
    return this._dc;
  }

  /** Every local candidate so far (end marker `{candidate: ""}` last once gathering is done). */
  get localCandidateList(): readonly CandidateInit[] {
    return this.candidates;
  }

  /** Every data channel message received so far (pings/pongs included). */
  get receivedMessages(): readonly string[] {
    return this.messages;
  }

  private createPeerConnection(): RTCPeerConnection {
    const pc = createPeerConnection({ iceServers: this.options.iceServers ?? [], bundlePolicy: "max-bundle" }, "WebCallCaller peer connection");
    pc.addEventListener("icecandidate", (ev: RTCPeerConnectionIceEvent) => {
      if (pc !== this._pc) return;
      if (ev.candidate?.candidate) {
        this.pushCandidate({ candidate: ev.candidate.candidate, sdpMid: ev.candidate.sdpMid, sdpMLineIndex: ev.candidate.sdpMLineIndex });
      } else {
        // wrtc can dispatch the end-of-candidates event before the last candidates'
        // events; the local description is complete by now, so take them from there.
        setImmediate(() => this.endCandidates(pc));
      }
    });
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc === this._pc && pc.iceGatheringState === "complete") setImmediate(() => this.endCandidates(pc));
    });
    pc.addEventListener("datachannel", (ev: RTCDataChannelEvent) => {
      if (pc === this._pc) this.attachDataChannel(ev.channel);
    });
    return pc;
  }

  private pushCandidate(c: CandidateInit): void {
    const key = `${c.sdpMid ?? c.sdpMLineIndex ?? ""}|${c.candidate}`;
    if (this.candidatesEnded || this.candidateKeys.has(key)) return;
    this.candidateKeys.add(key);
    this.emitCandidate(c);
  }

  private endCandidates(pc: RTCPeerConnection): void {
    if (pc !== this._pc || this.candidatesEnded || this.closed) return;
    for (const c of candidatesInSdp(pc.localDescription?.sdp ?? "")) this.pushCandidate(c);
    this.candidatesEnded = true;
    this.emitCandidate(END_OF_CANDIDATES);
  }

  private emitCandidate(c: CandidateInit): void {
    this.candidates.push(c);
    for (const l of this.candidateListeners) l(c);
    this.wakeCandidateStreams();
  }

  private attachDataChannel(dc: RTCDataChannel): void {
    this._dc = dc;
    dc.addEventListener("message", (ev: MessageEvent) => {
      const text = typeof ev.data === "string" ? ev.data : Buffer.from(ev.data as ArrayBuffer).toString("utf8");
      this.messages.push(text);
      if (text.startsWith("ping:") && dc.readyState === "open") dc.send(`pong:${text.slice(5)}`);
      for (const w of [...this.messageWaiters]) w();
    });
  }

  private addAudio(): void {
    if (this.options.audio === false || this.localTrack) return;
    this.localTrack = createSyntheticAudioTrack();
    this._pc.addTrack(this.localTrack, new wrtc.MediaStream([this.localTrack]));
  }

  /** Resets to a fresh peer connection (used when we must answer instead of offer). */
  private reset(): void {
    const old = this._pc;
    this._dc?.close();
    this._dc = undefined;
    this.localTrack?.stop();
    this.localTrack = undefined;
    this.candidates.length = 0;
    this.candidateKeys.clear();
    this.candidatesEnded = false;
    // Swap first: closing fires the old connection's events, which must be ignored.
    this._pc = this.createPeerConnection();
    old.close();
  }

  private async waitForGathering(): Promise<void> {
    if (this.options.trickle) return;
    const timeoutMs = this.options.gatherTimeoutMs ?? 5000;
    const deadline = Date.now() + timeoutMs;
    while (!this.candidatesEnded && Date.now() < deadline) {
      await sleep(10);
    }
  }

  private description(): SessionDescription {
    const d = this._pc.localDescription;
    if (!d) throw new Error("no local description");
    return { type: d.type as SessionDescription["type"], sdp: d.sdp };
  }

  /** Makes our offer (audio + data channel). */
  async offer(): Promise<SessionDescription> {
    this.assertOpen();
    if (!this._dc) this.attachDataChannel(this._pc.createDataChannel(this.options.dataChannelLabel ?? "webcall"));
    this.addAudio();
    await this._pc.setLocalDescription(await this._pc.createOffer());
    await this.waitForGathering();
    const offer = this.description();
    return this.options.setupActive ? { type: offer.type, sdp: forceSetupActive(offer.sdp) } : offer;
  }

  /** Takes the callee's answer to our offer. */
  async acceptAnswer(answer: { type?: string; sdp: string }): Promise<void> {
    this.assertOpen();
    await this._pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  }

  /**
   * Answers a remote offer (glare: the callee's call won and we continue in it). If we
   * already made an offer, the old peer connection is closed and a fresh one answers.
   */
  async answerOffer(offer: { type?: string; sdp: string }): Promise<SessionDescription> {
    this.assertOpen();
    if (this._pc.signalingState !== "stable" || this._pc.localDescription?.sdp) this.reset();
    await this._pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
    this.addAudio();
    const answer = await this._pc.createAnswer();
    await this._pc.setLocalDescription(answer);
    await this.waitForGathering();
    return this.description();
  }

  /** Adds the remote side's candidates; `{candidate: ""}` (end of candidates) is skipped. */
  async addRemoteCandidates(candidates: readonly CandidateInit[]): Promise<void> {
    this.assertOpen();
    for (const c of candidates) {
      if (!c.candidate) continue;
      await this._pc.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid ?? undefined, sdpMLineIndex: c.sdpMLineIndex ?? undefined });
    }
  }

  /** Calls `listener` with every local candidate, past ones first. Returns an unsubscribe. */
  onLocalCandidate(listener: (c: CandidateInit) => void): () => void {
    for (const c of this.candidates) listener(c);
    this.candidateListeners.add(listener);
    return () => this.candidateListeners.delete(listener);
  }

  /** Local candidates as a stream, past ones first; ends after the end marker (which it yields) or on close. */
  async *localCandidates(): AsyncGenerator<CandidateInit> {
    let i = 0;
    for (;;) {
      while (i < this.candidates.length) {
        const c = this.candidates[i++]!;
        yield c;
        if (!c.candidate) return;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => this.candidateWakers.add(resolve));
    }
  }

  /**
   * Connected: ICE/DTLS connected and, if we have a data channel (and `dataChannel`
   * isn't false), it is open. With `ping: true` also a ping/pong round trip over the
   * data channel (the remote must be a WebCallCaller too).
   */
  async waitConnected(opts: { timeoutMs?: number; ping?: boolean; dataChannel?: boolean } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    const needDc = opts.ping || (opts.dataChannel !== false && this._dc !== undefined);
    for (;;) {
      this.assertOpen();
      const pc = this._pc;
      if (pc.connectionState === "failed" || pc.iceConnectionState === "failed") throw new Error(`connection failed (${this.stateSummary()})`);
      if (isConnected(pc) && (!needDc || this._dc?.readyState === "open")) break;
      if (Date.now() > deadline) throw new Error(`not connected after ${timeoutMs} ms (${this.stateSummary()})`);
      await sleep(20);
    }
    if (opts.ping) {
      const n = ++this.pingSeq;
      const pong = this.nextMessage((m) => m === `pong:${n}`, Math.max(1, deadline - Date.now()));
      this.send(`ping:${n}`);
      await pong;
    }
  }

  /** Sends a text message on the data channel (must be open). */
  send(text: string): void {
    if (!this._dc || this._dc.readyState !== "open") throw new Error(`data channel not open (${this._dc?.readyState ?? "none"})`);
    this._dc.send(text);
  }

  /** The first received message (already received or future) matching `predicate`. */
  nextMessage(predicate: (m: string) => boolean = () => true, timeoutMs = 5000): Promise<string> {
    const found = this.messages.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    let waiter: (() => void) | undefined;
    const p = new Promise<string>((resolve) => {
      waiter = () => {
        const m = this.messages.find(predicate);
        if (m !== undefined) resolve(m);
      };
      this.messageWaiters.add(waiter);
    });
    return withTimeout(p, timeoutMs, "a data channel message").finally(() => this.messageWaiters.delete(waiter!));
  }

  /** Current audio stats of our peer connection. */
  mediaFlowReport(): Promise<MediaFlowReport> {
    return mediaFlowReport(this._pc);
  }

  /** Connected, remote audio track present, audio bytes received and growing. */
  waitForMediaFlowing(opts?: MediaFlowOptions): Promise<MediaFlowReport> {
    return waitForMediaFlowing(() => (this.closed ? undefined : this._pc), opts);
  }

  /**
   * Closes the data channel and peer connection and stops our track. Idempotent.
   * A closed caller still references its peer connection: drop it (e.g. pop it off the
   * suite's list) before `teardownWrtcGlobals()`, which waits for it to be collected.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this._dc?.close();
    this.localTrack?.stop();
    for (const r of this._pc.getReceivers()) r.track?.stop();
    this._pc.close();
    this.candidateListeners.clear();
    this.messageWaiters.clear();
    this.wakeCandidateStreams();
  }

  private wakeCandidateStreams(): void {
    const wakers = [...this.candidateWakers];
    this.candidateWakers.clear();
    for (const w of wakers) w();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("WebCallCaller is closed");
  }

  private stateSummary(): string {
    const pc = this._pc;
    return `connection=${pc.connectionState} ice=${pc.iceConnectionState} signaling=${pc.signalingState} dataChannel=${this._dc?.readyState ?? "none"}`;
  }
}

/** Every `a=setup:actpass` line → `a=setup:active` (see WebCallCallerOptions.setupActive). */
export function forceSetupActive(sdp: string): string {
  return sdp.replace(/^a=setup:actpass\r?$/gm, (line) => line.replace("actpass", "active"));
}

/** The `a=candidate:` lines of an SDP, with the mid and index of their m-section. */
export function candidatesInSdp(sdp: string): CandidateInit[] {
  const sections = sdp.split(/\r?\n(?=m=)/).slice(1); // drop the session part
  return sections.flatMap((section, index) => {
    const lines = section.split(/\r?\n/);
    const mid = lines.find((l) => l.startsWith("a=mid:"))?.slice("a=mid:".length) ?? null;
    return lines.filter((l) => l.startsWith("a=candidate:")).map((l) => ({ candidate: l.slice(2), sdpMid: mid, sdpMLineIndex: index }));
  });
}

export function createWebCallCaller(options?: WebCallCallerOptions): WebCallCaller {
  return new WebCallCaller(options);
}
