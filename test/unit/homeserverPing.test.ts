import { MatrixRequestError } from "../../src/matrix/HomeserverClient";
import { HomeserverPing, PingTarget } from "../../src/matrix/HomeserverPing";
import { waitFor } from "../e2e/fixture";

const options = { appserviceId: "webcall", bridgeUrl: "http://bridge:8090", homeserverUrl: "http://hs:8008", retryDelaysMs: [5, 5] };

function target(answers: Array<number | Error>): PingTarget & { calls: number } {
  const t = {
    calls: 0,
    async pingAppservice(): Promise<number> {
      const answer = answers[Math.min(t.calls++, answers.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return t;
}

describe("the start-up ping", () => {
  it("retries while the homeserver is down, then reports the round trip", async () => {
    const t = target([new Error("connect ECONNREFUSED"), 7]);
    const ping = new HomeserverPing(t, options);
    ping.start();
    const last = await waitFor(() => ping.last.ping === "ok" ? ping.last : undefined, 2000, "the ping");
    expect(last).toMatchObject({ ping: "ok", rttMs: 7 });
    expect(t.calls).toBe(2);
  });

  it("says the homeserver could not reach the bridge at the registration's url", async () => {
    const t = target([new MatrixRequestError(502, "M_CONNECTION_FAILED", "ConnectError: refused")]);
    const ping = new HomeserverPing(t, options);
    ping.start();
    await waitFor(() => t.calls === 3 || undefined, 2000, "the retries");
    expect(ping.last).toMatchObject({ ping: "failed", errcode: "M_CONNECTION_FAILED", error: expect.stringContaining("could not reach the bridge at http://bridge:8090") });
  });

  it("does not retry a registration without a url, and says what to fix", async () => {
    const t = target([new MatrixRequestError(400, "M_URL_NOT_SET", "no url")]);
    const ping = new HomeserverPing(t, options);
    ping.start();
    await waitFor(() => ping.last.ping === "failed" || undefined, 2000, "the ping");
    await new Promise((r) => setTimeout(r, 30));
    expect(t.calls).toBe(1);
    expect(ping.last).toMatchObject({ errcode: "M_URL_NOT_SET", error: expect.stringContaining("set url in the registration file") });
  });
});
