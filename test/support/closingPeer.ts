/**
 * A real node:http peer that closes keep-alive connections on the client,
 * the way other nodes, homeservers and proxies do, to test that the bridge's
 * pooled clients survive it.
 *
 * Every answer carries an explicit `Connection: keep-alive`, which stops
 * Node from adding its `Keep-Alive: timeout=N` hint: peers such as twisted
 * or a proxy send no hint, so the client's pool keeps the socket however
 * short the peer's idle timeout is.
 */
import http from "node:http";
import { AddressInfo, Socket } from "node:net";

export type PeerMode =
  /** Closes a connection once it has been idle for `idleMs` (keepAliveTimeout). */
  | { idleCloseMs: number }
  /** Resets a connection when a second request arrives on it, unanswered: the
   *  peer's idle close crossing the client's next request, every time. */
  | "reset-reused"
  /** Resets every connection on its first request, unanswered. */
  | "reset-fresh"
  /** On a connection's second request, starts the answer and then resets. */
  | "reset-reused-mid-answer";

export interface ClosingPeer {
  /** `http://127.0.0.1:{port}` */
  readonly base: string;
  /** Requests that arrived, reset or answered. */
  readonly requests: number;
  /** Connections the clients opened. */
  readonly connections: number;
  close(): Promise<void>;
}

/** `answer` gives the JSON body for a request (its method and path, its body parsed). */
export async function startClosingPeer(mode: PeerMode, answer: (method: string, path: string, body: unknown) => unknown): Promise<ClosingPeer> {
  let requests = 0, connections = 0;
  const served = new WeakMap<Socket, number>();
  // keepAliveTimeoutBuffer: 0, or Node 24 waits a second past keepAliveTimeout.
  const server = http.createServer({ keepAliveTimeout: typeof mode === "object" ? mode.idleCloseMs : 60_000, keepAliveTimeoutBuffer: 0 }, (req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => { raw += chunk; });
    req.on("end", () => {
      requests++;
      const nth = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, nth);
      if (mode === "reset-fresh" || (mode === "reset-reused" && nth > 1)) {
        req.socket.resetAndDestroy();
        return;
      }
      const body = JSON.stringify(answer(req.method ?? "", req.url ?? "", raw ? JSON.parse(raw) : undefined));
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), Connection: "keep-alive" });
      if (mode === "reset-reused-mid-answer" && nth > 1) {
        res.write(body.slice(0, 1), () => setTimeout(() => req.socket.resetAndDestroy(), 5));
        return;
      }
      res.end(body);
    });
  });
  server.on("connection", () => { connections++; });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() { return requests; },
    get connections() { return connections; },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The i-th of a run of idle gaps around a peer's idle timeout: one ends
 * before its close; one after it (the client has seen the close); one blocks
 * the event loop past it, as a busy bridge does, so the close is due but has
 * not run when the next request goes out on the pooled socket, and then
 * meets it.
 */
export async function idleGap(i: number, idleCloseMs: number): Promise<void> {
  if (i % 3 === 0) return sleep(idleCloseMs / 2);
  if (i % 3 === 1) return sleep(idleCloseMs + 10);
  const until = Date.now() + idleCloseMs + 10;
  while (Date.now() < until); // deliberately synchronous
}
