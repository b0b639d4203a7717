import { TestHomeserver, type CreatedUser } from "./index";
import { call, enc } from "./testUtil";

describe("test homeserver: OpenID tokens", () => {
  let hs: TestHomeserver;
  let alice: CreatedUser;
  let bob: CreatedUser;
  const userinfo = (token?: string) =>
    call(hs.url, "GET", `/_matrix/federation/v1/openid/userinfo${token === undefined ? "" : `?access_token=${enc(token)}`}`);

  beforeAll(async () => {
    hs = await TestHomeserver.start({ serverName: "example.org" });
    alice = await hs.createUser("alice");
    bob = await hs.createUser("bob");
  });
  afterAll(() => hs.stop());

  it("issues a token for the requesting user that userinfo resolves, repeatedly, like Synapse", async () => {
    const issued = await call(hs.url, "POST", `/user/${enc(alice.userId)}/openid/request_token`, alice.accessToken, {});
    expect(issued.status).toBe(200);
    expect(issued.body).toEqual({ access_token: expect.stringMatching(/^[A-Za-z]{24}$/), token_type: "Bearer", matrix_server_name: "example.org", expires_in: 3600 });
    for (let i = 0; i < 2; i++) expect(await userinfo(issued.body.access_token)).toEqual({ status: 200, body: { sub: alice.userId } });
    const r0 = await call(hs.url, "POST", `/_matrix/client/r0/user/${enc(bob.userId)}/openid/request_token`, bob.accessToken, {});
    expect((await userinfo(r0.body.access_token)).body).toEqual({ sub: bob.userId });
  });

  it("refuses tokens for other users, requests without a JSON object, and unauthenticated requests", async () => {
    const other = await call(hs.url, "POST", `/user/${enc(bob.userId)}/openid/request_token`, alice.accessToken, {});
    expect(other).toEqual({ status: 403, body: { errcode: "M_FORBIDDEN", error: "Cannot request tokens for other users." } });
    const noBody = await call(hs.url, "POST", `/user/${enc(alice.userId)}/openid/request_token`, alice.accessToken);
    expect([noBody.status, noBody.body.errcode]).toEqual([400, "M_NOT_JSON"]);
    const array = await call(hs.url, "POST", `/user/${enc(alice.userId)}/openid/request_token`, alice.accessToken, []);
    expect([array.status, array.body.errcode]).toEqual([400, "M_BAD_JSON"]);
    const anonymous = await call(hs.url, "POST", `/user/${enc(alice.userId)}/openid/request_token`, undefined, {});
    expect([anonymous.status, anonymous.body.errcode]).toEqual([401, "M_MISSING_TOKEN"]);
    const badToken = await call(hs.url, "POST", `/user/${enc(alice.userId)}/openid/request_token`, "syt_nope", {});
    expect([badToken.status, badToken.body.errcode]).toEqual([401, "M_UNKNOWN_TOKEN"]);
  });

  it("userinfo answers 401 for missing, unknown and access (not OpenID) tokens", async () => {
    expect(await userinfo()).toEqual({ status: 401, body: { errcode: "M_MISSING_TOKEN", error: "Access Token required" } });
    expect(await userinfo("nosuchtoken")).toEqual({ status: 401, body: { errcode: "M_UNKNOWN_TOKEN", error: "Access Token unknown or expired" } });
    expect((await userinfo(alice.accessToken)).status).toBe(401);
  });

  it("an expired token is unknown", async () => {
    const issued = await call(hs.url, "POST", `/user/${enc(alice.userId)}/openid/request_token`, alice.accessToken, {});
    const realNow = Date.now;
    Date.now = () => realNow() + 3600 * 1000 + 1;
    try {
      expect((await userinfo(issued.body.access_token)).body.errcode).toBe("M_UNKNOWN_TOKEN");
    } finally {
      Date.now = realNow;
    }
  });
});
