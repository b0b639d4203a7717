import type { CreatedUser } from "../homeserver";
import { expectError, ProvisioningFixture } from "./fixture";

/** The provisioning API reads `Authorization: Bearer` as every listener does (src/util/bearer.ts): the scheme in any case. */

let f: ProvisioningFixture;
let alice: CreatedUser;

beforeAll(async () => {
  f = await ProvisioningFixture.start();
  alice = await f.hs.createUser("alice");
});

afterAll(() => f?.stop());

test("a session token is accepted after Bearer, bearer, BEARER or several spaces, and refused after another scheme", async () => {
  const token = await f.session(alice);
  for (const header of [`Bearer ${token}`, `bearer ${token}`, `BEARER ${token}`, `BeArEr ${token}`, `Bearer   ${token}`]) {
    const reply = await f.call("GET", "/v1/session", undefined, undefined, undefined, { Authorization: header });
    expect({ header, status: reply.status, userId: reply.body?.userId }).toEqual({ header, status: 200, userId: alice.userId });
  }
  expectError(await f.call("GET", "/v1/session", undefined, undefined, undefined, { Authorization: `Basic ${token}` }), 401, "M_AS_BAD_TOKEN");
});
