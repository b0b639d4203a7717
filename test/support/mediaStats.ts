/** Proof that media is really flowing on a peer connection, from its own state and stats. */

export interface MediaFlowReport {
  connectionState: string;
  iceConnectionState: string;
  /** Audio RTP bytes received (inbound-rtp, kind audio), summed over streams. */
  bytesReceived: number;
  packetsReceived: number;
  /** Audio RTP bytes sent (outbound-rtp, kind audio). */
  bytesSent: number;
  /** Live remote audio tracks on the receivers. */
  remoteAudioTracks: number;
}

export async function mediaFlowReport(pc: RTCPeerConnection): Promise<MediaFlowReport> {
  let bytesReceived = 0;
  let packetsReceived = 0;
  let bytesSent = 0;
  if (pc.signalingState !== "closed") {
    const stats = await pc.getStats();
    stats.forEach((r: Record<string, unknown>) => {
      const kind = r["kind"] ?? r["mediaType"];
      if (kind !== "audio") return;
      if (r["type"] === "inbound-rtp") {
        bytesReceived += Number(r["bytesReceived"] ?? 0);
        packetsReceived += Number(r["packetsReceived"] ?? 0);
      } else if (r["type"] === "outbound-rtp") {
        bytesSent += Number(r["bytesSent"] ?? 0);
      }
    });
  }
  const remoteAudioTracks = pc.signalingState === "closed" ? 0 : pc.getReceivers()
    .filter((r) => r.track && r.track.kind === "audio" && r.track.readyState === "live").length;
  return {
    connectionState: pc.connectionState,
    iceConnectionState: pc.iceConnectionState,
    bytesReceived,
    packetsReceived,
    bytesSent,
    remoteAudioTracks,
  };
}

export function isConnected(pc: RTCPeerConnection): boolean {
  return pc.connectionState === "connected" || pc.iceConnectionState === "connected" || pc.iceConnectionState === "completed";
}

export interface MediaFlowOptions {
  timeoutMs?: number;
  /** Received audio bytes must exceed this (default 0) ... */
  minBytesReceived?: number;
  /** ... and have grown between two samples this far apart (default 200 ms), so it is live media, not one stray packet. */
  growthWindowMs?: number;
}

/**
 * Resolves once the connection is connected, a remote audio track exists and audio
 * bytes are received and still growing. Rejects with the last report on timeout or if
 * the connection fails/closes.
 */
export async function waitForMediaFlowing(getPc: () => RTCPeerConnection | undefined, opts: MediaFlowOptions = {}): Promise<MediaFlowReport> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const minBytes = opts.minBytesReceived ?? 0;
  const windowMs = opts.growthWindowMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let last: MediaFlowReport | undefined;
  let previous: { at: number; bytes: number } | undefined;
  for (;;) {
    const pc = getPc();
    if (pc) {
      if (pc.signalingState === "closed" || pc.connectionState === "failed" || pc.connectionState === "closed") {
        throw new Error(`peer connection ${pc.signalingState === "closed" ? "closed" : pc.connectionState} before media flowed (last: ${JSON.stringify(last ?? null)})`);
      }
      last = await mediaFlowReport(pc);
      if (isConnected(pc) && last.remoteAudioTracks > 0 && last.bytesReceived > minBytes) {
        const now = Date.now();
        if (!previous) previous = { at: now, bytes: last.bytesReceived };
        else if (now - previous.at >= windowMs) {
          if (last.bytesReceived > previous.bytes) return last;
          previous = { at: now, bytes: last.bytesReceived };
        }
      }
    }
    if (Date.now() > deadline) {
      throw new Error(`media not flowing after ${timeoutMs} ms (last: ${JSON.stringify(last ?? "no peer connection")})`);
    }
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects after `ms` with `what` unless `promise` settles first; always clears its timer. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
