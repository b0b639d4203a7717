import express from "express";
import http from "node:http";
import { AddressInfo } from "node:net";
import { BridgeFixture, waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { OFFER } from "./sdp";


/**
 * A Matrix user must not be able to make the bridge probe its own network:
 * endpoints at loopback, private, link-local or metadata addresses, redirects
 * and oversized answers are refused, and the call is rejected cleanly.
 * Nothing is ever sent to 10.0.0.1 or 169.254.169.254: the guard refuses them
 * before connecting.
 */
describe("outbound requests are guarded", () => {
  let fx: BridgeFixture;
  let bob: RawMatrixUser;
  let server: http.Server;
  let port: number;
  const hits: string[] = [];

  beforeAll(async () => {
    const app = express();
    app.use((req, _res, next) => { hits.push(req.url); next(); });
    app.post("/webcall", (_req, res) => { res.json({ status: "could_not_attend" }); });
    app.post("/redirect", (_req, res) => { res.redirect(307, `http://127.0.0.1:${port}/webcall`); });
    app.post("/huge", (_req, res) => { res.type("application/json").send(`{"status":"success","pad":"${"x".repeat(10 * 1024 * 1024)}"}`); });
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
    fx = await BridgeFixture.start({
      outbound: {
        allowHttp: true, allowPrivateNetworks: false, trustedHosts: ["localhost"], timeoutMs: 2000,
        nodes: {
          "loopback.test": `http://127.0.0.1:${port}/webcall`,
          "private.test": "http://10.0.0.1/webcall",
          "metadata.test": "http://169.254.169.254/webcall",
          "ipv6-loopback.test": `http://[::1]:${port}/webcall`,
          "redirect.test": `http://localhost:${port}/redirect`,
          "huge.test": `http://localhost:${port}/huge`,
        },
      },
    });
    bob = new RawMatrixUser(fx.hs, await fx.hs.createUser("bob"));
  });
  afterAll(async () => {
    await fx.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it.each(["loopback.test", "private.test", "metadata.test", "ipv6-loopback.test", "redirect.test", "huge.test"])("%s: refused, and the call is rejected with a notice", async (domain) => {
    const virtual = `@webcall_probe=40${domain}:example.org`;
    const room = (await bob.request("POST", "/_matrix/client/v3/createRoom", { preset: "trusted_private_chat", is_direct: true, invite: [virtual] })).room_id;
    await waitFor(() => fx.bridge.store.getDmRoomById(room as never), 5000, "the DM");
    const before = hits.length;
    const callId = `ssrf-${domain}-${Date.now()}`;
    await bob.send(room, "m.call.invite", { call_id: callId, party_id: "P", version: "1", lifetime: 30000, invitee: virtual, offer: OFFER });
    await fx.waitForSent((e) => e.type === "m.call.reject" && e.content.call_id === callId, 10_000);
    await fx.waitForSent((e) => e.room_id === room && /could not be put through/.test(String(e.content.body)));
    const reached = hits.slice(before);
    // Loopback by address is refused before connecting; the trusted name may be
    // contacted, but its redirect is not followed and its 10 MB answer is cut off.
    if (domain === "redirect.test") expect(reached).toEqual(["/redirect"]);
    else if (domain === "huge.test") expect(reached).toEqual(["/huge"]);
    else expect(reached).toEqual([]);
    expect(fx.problems).toEqual([]);
  });
});
