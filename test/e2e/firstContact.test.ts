/**
 * First contact on real Synapse: a callee the bridge has no DM with is rung
 * if, and only if, they exist. Synapse answers `GET /profile/{user}` 404 for
 * a real user with neither display name nor avatar, and 403 for everyone
 * when profile lookups are limited to users who share a room; neither may
 * make a real user unreachable.
 */
import { BridgeFixture } from "./fixture";
import { defaultKind } from "./homeserver";
import { RawMatrixUser } from "./matrixUser";
import { postJson } from "./webcallClient";
import { OFFER } from "./sdp";

const virtualOf = (address: string) => `@webcall_${address.replace("@", "=40")}:example.org`;

// Synapse refuses to start with the limit alone: it needs require_auth_for_profile_requests too.
const LIMITED = { limit_profile_requests_to_users_who_share_rooms: true, require_auth_for_profile_requests: true };

describe.each([
  ["default profile settings", {}, true, defaultKind()],
  // Synapse only: the in-process homeserver has no setting that limits profile lookups.
  ["profile lookups limited to users who share a room", LIMITED, false, "synapse" as const],
])("first contact on Synapse, %s", (_label, synapseConfig, saysWhoExists, homeserver) => {
  let fx: BridgeFixture;

  beforeAll(async () => { fx = await BridgeFixture.start({ homeserver, synapseConfig }); });
  afterAll(async () => { await fx.stop(); });
  afterEach(() => { expect(fx.problems).toEqual([]); });

  const call = (callerId: string, calleeId: string) => postJson(fx.webcallUrl, { callerId, calleeId, offer: OFFER, lifetime: 20000 });

  it("rings a user whose display name was cleared", async () => {
    const user = new RawMatrixUser(fx.hs, await fx.hs.createUser("nameless"));
    await user.request("PUT", `/_matrix/client/v3/profile/${encodeURIComponent(user.userId)}/displayname`, { displayname: "" });
    const res = await call("alf@employer.com", "nameless@example.org");
    expect(res.body.status).toBe("success");
    expect(await user.waitForInviteFrom(virtualOf("alf@employer.com"))).toMatch(/^!/);
  });

  it("rings a user who has a display name", async () => {
    const user = new RawMatrixUser(fx.hs, await fx.hs.createUser("named", { displayName: "Named User" }));
    const res = await call("alf@employer.com", "named@example.org");
    expect(res.body.status).toBe("success");
    expect(await user.waitForInviteFrom(virtualOf("alf@employer.com"))).toMatch(/^!/);
  });

  // Limited, Synapse answers 403 whether the user exists or not and tells only
  // its admins: the bridge then rings, and an unknown callee's call goes unanswered.
  if (saysWhoExists) it("answers could_not_attend for a user who does not exist, and invites no one", async () => {
    const res = await call("alf@employer.com", "nobody-here@example.org");
    expect(res.body).toEqual({ status: "could_not_attend" });
    await new Promise((r) => setTimeout(r, 300));
    expect(fx.sent.filter((e) => e.type === "m.room.member" && e.state_key === "@nobody-here:example.org")).toEqual([]);
  });
});
