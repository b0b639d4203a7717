/**
 * Synapse with `use_appservice_legacy_authorization: true` pushes with
 * `?access_token=` as well as the header (older deployments keep it on):
 * the bridge must take those pushes as usual.
 */
import { BridgeFixture } from "./fixture";
import { RawMatrixUser } from "./matrixUser";
import { postJson, WebCallSession } from "./webcallClient";
import { ANSWER, OFFER } from "./sdp";

describe("Synapse's legacy appservice authorization", () => {
  let fx: BridgeFixture;
  afterAll(async () => { await fx?.stop(); });

  it("a call rings and is answered when pushes carry ?access_token=", async () => {
    // Synapse only: it is Synapse's setting (the token in both the header and the query) that is under test; the
    // in-process homeserver's legacyAccessTokenPush is an older server's query-only push (test/homeserver/appservice.test.ts).
    fx = await BridgeFixture.start({ homeserver: "synapse", synapseConfig: { use_appservice_legacy_authorization: true } });
    const alice = new RawMatrixUser(fx.hs, await fx.hs.createUser("alice"));
    const res = await postJson(fx.webcallUrl, { callerId: "alf@employer.com", calleeId: "alice@example.org", offer: OFFER });
    expect(res.body.status).toBe("success");
    const room = await alice.waitForInviteFrom("@webcall_alf=40employer.com:example.org");
    await alice.join(room);
    await fx.waitForSent((e) => e.type === "m.call.invite" && e.content.call_id === res.body.sessionId);
    await alice.send(room, "m.call.answer", { call_id: res.body.sessionId, party_id: "PHONE", version: "1", answer: ANSWER });
    const session = new WebCallSession(fx.webcallUrl, res.body.sessionId, res.body.token);
    expect((await session.waitForEvent("answer")).answer).toEqual(ANSWER);
    await session.hangup();
    expect(fx.problems).toEqual([]);
  });
});
