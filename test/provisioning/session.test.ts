import { MatrixUserId } from "../../src/ids/matrix";
import { tokenHash } from "../../src/provisioning/SessionStore";
import { RulesService } from "../../src/rules/RulesService";
import { Store } from "../../src/store";
import type { CreatedUser } from "../homeserver";
import { expectError, ProvisioningFixture } from "./fixture";

/** Getting a session: OpenID exchange, session tokens, and the limits around them. */

let f: ProvisioningFixture;
let alice: CreatedUser;

beforeAll(async () => {
  f = await ProvisioningFixture.start();
  alice = await f.hs.createUser("alice");
});

afterAll(() => f?.stop());

describe("exchanging an OpenID token", () => {
  test("a real user's OpenID token becomes a session for that user; only its hash is stored", async () => {
    const openId = await f.openIdToken(alice);
    const reply = await f.call("POST", "/v1/exchange_openid", undefined, { openIdToken: openId, matrixServer: "example.org" });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ token: expect.any(String), userId: alice.userId });
    const token = reply.body.token as string;
    expect(await f.store.getProvisioningSession(tokenHash(token))).toMatchObject({ userId: alice.userId, expiresAt: expect.any(Number) });
    expect(await f.store.getProvisioningSession(token)).toBeUndefined();
    const session = await f.call("GET", "/v1/session", token);
    expect(session).toMatchObject({ status: 200, body: { userId: alice.userId, type: "widget" } });
    expect(session.headers.get("access-control-allow-origin")).toBe("*");
  });

  test("homeserver.openIdUrl names the listener that serves OpenID userinfo; without it, a client-only homeserver.url cannot check tokens", async () => {
    // On Synapse the client listener at homeserver.url serves no federation
    // resources: userinfo is only on the `openid` listener (test/synapse/config.ts).
    if (f.hs.kind !== "synapse") return expect(f.hs.openIdUrl).toBe(f.hs.url);
    const clientOnly = await f.listen({}, undefined, {});
    const refused = await f.call("POST", "/v1/exchange_openid", undefined, { openIdToken: await f.openIdToken(alice), matrixServer: "example.org" }, clientOnly);
    expectError(refused, 401, "M_AS_BAD_OPENID", /OpenID token/);
    const named = await f.listen();
    const accepted = await f.call("POST", "/v1/exchange_openid", undefined, { openIdToken: await f.openIdToken(alice), matrixServer: "example.org" }, named);
    expect(accepted).toMatchObject({ status: 200, body: { userId: alice.userId } });
  });

  test("a token the homeserver does not know is refused with 401", async () => {
    const reply = await f.call("POST", "/v1/exchange_openid", undefined, { openIdToken: "notARealOpenIdTokenAtAll", matrixServer: "example.org" });
    expectError(reply, 401, "M_AS_BAD_OPENID", /OpenID token/);
  });

  test("another homeserver is refused before anything is fetched", async () => {
    const reply = await f.call("POST", "/v1/exchange_openid", undefined, { openIdToken: await f.openIdToken(alice), matrixServer: "evil.example" });
    expectError(reply, 403, "M_FORBIDDEN", /body\.matrixServer must be example\.org/);
  });

  test("a malformed exchange names the field", async () => {
    expectError(await f.call("POST", "/v1/exchange_openid", undefined, { matrixServer: "example.org" }), 400, "M_AS_BAD_VALUE", /body\.openIdToken is missing/);
    expectError(await f.call("POST", "/v1/exchange_openid", undefined, { openIdToken: 5, matrixServer: "example.org" }), 400, "M_AS_BAD_VALUE", /body\.openIdToken must be string/);
    expectError(await f.call("POST", "/v1/exchange_openid", undefined, []), 400, "M_AS_BAD_VALUE", /body must be a JSON object/);
  });
});

describe("session tokens", () => {
  test("requests without a token, or with an unknown one, get 401", async () => {
    expectError(await f.call("GET", "/v1/rules"), 401, "M_AS_BAD_TOKEN");
    expectError(await f.call("GET", "/v1/rules", "br-sdk-utoken-nosuchsession"), 401, "M_AS_BAD_TOKEN");
    expectError(await f.call("GET", "/v1/nosuchroute"), 401, "M_AS_BAD_TOKEN");
  });

  test("an expired session gets 401 and is removed", async () => {
    const token = "br-sdk-utoken-expiredexpiredexpired";
    await f.store.createProvisioningSession({ tokenHash: tokenHash(token), userId: alice.userId as MatrixUserId, expiresAt: Date.now() - 1 });
    expectError(await f.call("GET", "/v1/rules", token), 401, "M_AS_BAD_TOKEN", /expired/);
    expect(await f.store.getProvisioningSession(tokenHash(token))).toBeUndefined();
  });

  test("logging out ends the session; logging out everywhere ends all of the user's", async () => {
    const one = await f.session(alice);
    const two = await f.session(alice);
    expect((await f.call("DELETE", "/v1/session", one)).body).toEqual({ ok: true });
    expectError(await f.call("GET", "/v1/rules", one), 401, "M_AS_BAD_TOKEN");
    expect((await f.call("GET", "/v1/rules", two)).status).toBe(200);
    const three = await f.session(alice);
    expect((await f.call("DELETE", "/v1/session/all", three)).status).toBe(200);
    for (const token of [two, three]) expectError(await f.call("GET", "/v1/rules", token), 401, "M_AS_BAD_TOKEN");
  });

  test("a session of another homeserver's user is refused with 403", async () => {
    const token = "br-sdk-utoken-foreignforeignforeign";
    await f.store.createProvisioningSession({ tokenHash: tokenHash(token), userId: "@mallory:evil.example" as MatrixUserId, expiresAt: Date.now() + 60_000 });
    expectError(await f.call("GET", "/v1/rules", token), 403, "M_FORBIDDEN", /example\.org only/);
    expectError(await f.call("POST", "/v1/rules", token, { rule: { action: "ring" } }), 403, "M_FORBIDDEN");
  });

  test("an authenticated request to an unknown endpoint gets 404", async () => {
    expectError(await f.call("GET", "/v1/nosuchroute", await f.session(alice)), 404, "M_UNRECOGNIZED");
  });
});

describe("HTTP limits", () => {
  test("a CORS preflight is answered without a token", async () => {
    const reply = await f.call("OPTIONS", "/v1/rules", undefined, undefined, f.base, {
      Origin: "https://frontend.example", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "authorization, content-type",
    });
    expect(reply.status).toBe(204);
    expect(reply.headers.get("access-control-allow-origin")).toBe("*");
    expect(reply.headers.get("access-control-allow-headers")).toMatch(/Authorization/);
    expect(reply.headers.get("access-control-allow-methods")).toMatch(/PUT/);
  });

  test("bodies over provisioning.maxBodyBytes get 413, before authentication", async () => {
    const big = { rules: [], defaultAction: null, timeZone: null, notifyRefused: false, version: 0, padding: "x".repeat(70 * 1024) };
    expectError(await f.call("PUT", "/v1/rules", "br-sdk-utoken-whatever", big), 413, "M_TOO_LARGE");
    expectError(await f.call("PUT", "/v1/rules", await f.session(alice), big), 413, "M_TOO_LARGE");
  });

  test("bodies that are not JSON get 400 or 415", async () => {
    const token = await f.session(alice);
    expectError(await f.call("POST", "/v1/rules", token, "{not json"), 400, "M_NOT_JSON");
    expectError(await f.call("POST", "/v1/rules", token, "rule=ring", f.base, { "Content-Type": "application/x-www-form-urlencoded" }), 415, "M_NOT_JSON");
  });

  test("too many requests from one address get 429 with retry_after_ms", async () => {
    const base = await f.listen({ rateLimit: { windowMs: 60_000, max: 3 } });
    const token = await f.session(alice);
    for (let i = 0; i < 3; i++) expect((await f.call("GET", "/v1/rules", token, undefined, base)).status).toBe(200);
    const limited = await f.call("GET", "/v1/rules", token, undefined, base);
    expectError(limited, 429, "M_AS_LIMIT_EXCEEDED");
    expect(limited.body.retry_after_ms).toBe(60_000);
    expectError(await f.call("POST", "/v1/exchange_openid", undefined, { openIdToken: "x", matrixServer: "example.org" }, base), 429, "M_AS_LIMIT_EXCEEDED");
  });

  test("a failure of ours is a plain 500: no message, no stack", async () => {
    const broken = new Proxy(f.store, {
      get(target, key) {
        if (key === "getUserRules") return () => Promise.reject(new Error("connection refused at /srv/db.ts:12"));
        const value = Reflect.get(target, key) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as Store;
    const base = await f.listen({}, new RulesService(broken, { maxRules: 5, defaultTimeZone: "UTC", bridgeDefault: "ring" }));
    const reply = await f.call("GET", "/v1/rules", await f.session(alice), undefined, base);
    expect(reply).toMatchObject({ status: 500, body: { errcode: "M_AS_UNKNOWN", error: "internal error" } });
    expect(JSON.stringify(reply.body)).not.toMatch(/refused|db\.ts/);
  });
});
