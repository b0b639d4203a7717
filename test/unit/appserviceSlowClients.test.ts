import net from "node:net";
import { AppserviceListener } from "../../src/matrix/AppserviceListener";
import { Store } from "../../src/store/Store";
import { LISTENER_TIMEOUTS, listenerServer } from "../../src/util/listenerServer";

const store = {
  async markEventsHandled(ids: readonly string[]) { return [...ids]; },
  async recentHandledEvents() { return []; },
  async pruneHandledEvents() { /* nothing kept */ },
} as unknown as Store;

/** Opens a raw connection, writes `chunks` one every `everyMs`, and resolves with what the server sent and when it closed. */
function slowClient(port: number, chunks: string[], everyMs: number): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, "127.0.0.1");
    let answer = "";
    let i = 0;
    const timer = setInterval(() => {
      if (i < chunks.length && !socket.destroyed) socket.write(chunks[i++]!);
    }, everyMs);
    socket.on("data", (d) => { answer += d.toString("latin1"); });
    socket.on("error", () => undefined);
    socket.on("close", () => { clearInterval(timer); resolve({ answer, closedAfterMs: Date.now() - started }); });
  });
}

describe("the appservice listener and slow clients", () => {
  let listener: AppserviceListener;
  let port: number;
  const timeouts = { headersMs: 400, requestMs: 800 };

  beforeAll(async () => {
    listener = new AppserviceListener({
      hsToken: "t", bind: "127.0.0.1", port: 0, maxBodyBytes: 1000, timeouts,
      isOwnUser: () => false, isRelevant: () => true, atMostOnce: () => false, onEvent: async () => undefined,
      onUserQuery: async () => false, health: () => ({}),
    }, store);
    port = await listener.listen();
  });
  afterAll(async () => { await listener.close(); });

  it("drops a client whose headers do not arrive in time", async () => {
    // One header line every 100 ms, never the blank line that ends them.
    const lines = ["PUT /_matrix/app/v1/transactions/1 HTTP/1.1\r\n", "Host: x\r\n", ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: y\r\n`)];
    const { answer, closedAfterMs } = await slowClient(port, lines, 100);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(closedAfterMs).toBeGreaterThanOrEqual(timeouts.headersMs - 50);
    expect(closedAfterMs).toBeLessThan(timeouts.headersMs + 1000);
  });

  it("drops a client whose body does not arrive in time", async () => {
    const head = "PUT /_matrix/app/v1/transactions/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    const { closedAfterMs } = await slowClient(port, [head, ...Array.from({ length: 40 }, () => " ")], 100);
    expect(closedAfterMs).toBeGreaterThanOrEqual(timeouts.requestMs - 50);
    expect(closedAfterMs).toBeLessThan(timeouts.requestMs + 1000);
  });

  it("by default, waits as long as the WebCall listener: 15 s for headers, 30 s for the whole request", () => {
    expect(LISTENER_TIMEOUTS).toEqual({ headersMs: 15_000, requestMs: 30_000 });
    const server = listenerServer(() => undefined);
    expect({ headers: server.headersTimeout, request: server.requestTimeout }).toEqual({ headers: 15_000, request: 30_000 });
  });
});
