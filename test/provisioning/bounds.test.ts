import { ProvisioningFixture, Reply } from "./fixture";

/**
 * The provisioning API's numbers at their bounds, on a real store and a
 * session from a real OpenID token: each value is accepted or refused with a
 * 4xx and an errcode, never a 5xx. `version` is compared with
 * user_rules.version, an integer column: a version no save can have made is
 * stale (409), not a query failure.
 */

const HUGE = `1${"0".repeat(309)}`;
const VALUES = ["0", "-1", "1", "2147483647", "2147483648", "9007199254740991", "9007199254740992", HUGE, "1e309", "1.5"];
const RULE = { caller: "*@employer.com", action: "ring" };

let f: ProvisioningFixture;
let token: string;

beforeAll(async () => {
  f = await ProvisioningFixture.start();
  token = await f.session(await f.hs.createUser("bounds"));
  // Two rules, so positions 1 and 2 exist.
  for (const caller of ["*@a.example", "*@b.example"]) expect((await f.call("POST", "/v1/rules", token, { rule: { ...RULE, caller } })).status).toBe(200);
});
afterAll(() => f?.stop());

/** `body` with the raw JSON number in place of "@N". */
const withNumber = (body: object, raw: string) => JSON.stringify(body).replace("\"@N\"", raw);

function expectNo5xx(field: string, raw: string, reply: Reply, allowed: number[]): void {
  const label = `${field}=${raw.slice(0, 24)}`;
  expect({ label, status: reply.status, allowed: allowed.includes(reply.status) }).toEqual({ label, status: reply.status, allowed: true });
  if (reply.status >= 400) expect({ label, errcode: typeof reply.body?.errcode }).toEqual({ label, errcode: "string" });
}

it("PUT /v1/rules: version (stale → 409, malformed → 400)", async () => {
  const current = (await f.call("GET", "/v1/rules", token)).body.version as number;
  for (const raw of VALUES) {
    const reply = await f.call("PUT", "/v1/rules", token, withNumber({ rules: [RULE], defaultAction: null, timeZone: null, notifyRefused: false, version: "@N" }, raw));
    const n = Number(raw);
    const expected = !Number.isInteger(n) || n < 0 ? 400 : n === current ? 200 : 409;
    expectNo5xx("version", raw, reply, [expected]);
  }
});

it("POST /v1/rules: position; POST /v1/rules/move: from and to", async () => {
  for (const raw of VALUES) {
    expectNo5xx("position", raw, await f.call("POST", "/v1/rules", token, withNumber({ rule: RULE, position: "@N" }, raw)), [200, 400]);
    expectNo5xx("from", raw, await f.call("POST", "/v1/rules/move", token, withNumber({ from: "@N", to: 1 }, raw)), [200, 400]);
    expectNo5xx("to", raw, await f.call("POST", "/v1/rules/move", token, withNumber({ from: 1, to: "@N" }, raw)), [200, 400]);
  }
});

it("DELETE /v1/rules/{n}", async () => {
  for (const raw of [...VALUES, "01", "+1"]) {
    // Deleting rule 1 would change the others' numbers: only out-of-range ones reach the edit.
    if (raw === "1") continue;
    expectNo5xx("n", raw, await f.call("DELETE", `/v1/rules/${encodeURIComponent(raw)}`, token), [400]);
  }
});

it("POST /v1/test: at (ms since the epoch, 0-8.64e15)", async () => {
  for (const raw of [...VALUES, "8640000000000000", "8640000000000001"]) {
    const n = Number(raw);
    const expected = Number.isInteger(n) && n >= 0 && n <= 8.64e15 ? 200 : 400;
    expectNo5xx("at", raw, await f.call("POST", "/v1/test", token, withNumber({ caller: "alf@employer.com", at: "@N" }, raw)), [expected]);
  }
});
