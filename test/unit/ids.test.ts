import { tryParseAddress, parseAddress } from "../../src/ids/address";
import { LocalUsers } from "../../src/ids/localUsers";
import { VirtualUsers, escapeLocalpart, unescapeLocalpart } from "../../src/ids/virtualUsers";
import { DomainError } from "../../src/errors/DomainError";
import { statusOf } from "../../src/errors/httpAnswer";

const virtual = new VirtualUsers("webcall_", "example.org");
const local = new LocalUsers("example.org", (id) => virtual.isVirtual(id));

describe("addresses", () => {
  it.each([
    ["alf@employer.com", "alf@employer.com"],
    ["Alf.Coalface@Employer.COM", "Alf.Coalface@employer.com"],
    ["a=b+c/d-e_f@x.org", "a=b+c/d-e_f@x.org"],
    ["x@sub.domain-1.example", "x@sub.domain-1.example"],
  ])("accepts %s as %s", (input, expected) => {
    expect(tryParseAddress(input)).toBe(expected);
  });

  it.each([
    "", "alf", "@employer.com", "alf@", "alf@@employer.com", "al f@employer.com", "alf@employer..com",
    "alf@-employer.com", "alf@employer.com:443", "al\u00e9@employer.com", "a".repeat(256) + "@x.org", 42, null,
  ])("refuses %p with WEBCALL_BAD_ADDRESS", (input) => {
    expect(tryParseAddress(input)).toBeUndefined();
    expect(() => parseAddress(input, "calleeId")).toThrow(DomainError);
    try { parseAddress(input, "calleeId"); } catch (e) {
      expect(statusOf(e as DomainError)).toBe(400);
      expect((e as DomainError).errcode).toBe("WEBCALL_BAD_ADDRESS");
      expect((e as DomainError).message).toContain("calleeId");
    }
  });
});

describe("virtual users", () => {
  it("maps the design's example", () => {
    expect(virtual.userIdFor(parseAddress("alf@employer.com"))).toBe("@webcall_alf=40employer.com:example.org");
  });

  it.each(["alf@employer.com", "Bob_B@x.org", "A=B+c/d.e-f__@y.z", "UPPER@case.org", "_@x.org"])("round-trips %s", (a) => {
    const address = parseAddress(a);
    const userId = virtual.userIdFor(address);
    expect(userId).toMatch(/^@[a-z0-9._=\-/+]+:example\.org$/);
    expect(virtual.addressOf(userId)).toBe(address);
  });

  it("keeps case-distinct addresses distinct", () => {
    expect(virtual.userIdFor(parseAddress("Alf@x.org"))).not.toBe(virtual.userIdFor(parseAddress("alf@x.org")));
  });

  it("has an anonymous user that no address maps to", () => {
    expect(virtual.addressOf(virtual.anonymous)).toBeNull();
    expect(virtual.userIdFor(null)).toBe(virtual.anonymous);
    expect(virtual.userIdFor(parseAddress("anonymous@example.org"))).not.toBe(virtual.anonymous);
  });

  it("refuses ids that are not ours or not valid escapes", () => {
    expect(virtual.addressOf("@alice:example.org" as never)).toBeUndefined();
    expect(virtual.addressOf("@webcall_alf=zzx:example.org" as never)).toBeUndefined();
    expect(virtual.addressOf("@webcall_alf=40x.org:other.org" as never)).toBeUndefined();
    expect(unescapeLocalpart("a_")).toBeUndefined();
    expect(escapeLocalpart("é")).toBe("=c3=a9");
  });

  it("builds a namespace regex that matches virtual users only", () => {
    const re = new RegExp(`^${virtual.namespaceRegex}$`);
    expect(re.test("@webcall_alf=40employer.com:example.org")).toBe(true);
    expect(re.test("@alice:example.org")).toBe(false);
    expect(re.test("@webcall_alf=40employer.com:exampleXorg")).toBe(false);
  });
});

describe("local users", () => {
  it("maps addresses on the homeserver's domain to its users and back", () => {
    expect(local.userIdFor(parseAddress("alice@example.org"))).toBe("@alice:example.org");
    expect(local.userIdFor(parseAddress("alice@EXAMPLE.org"))).toBe("@alice:example.org");
    expect(local.addressOf("@alice:example.org" as never)).toBe("alice@example.org");
  });

  it("reaches no one for other domains, upper-case local parts or virtual users", () => {
    expect(local.userIdFor(parseAddress("alice@elsewhere.org"))).toBeUndefined();
    expect(local.userIdFor(parseAddress("Alice@example.org"))).toBeUndefined();
    expect(local.userIdFor(parseAddress("webcall_alf=40x.org@example.org"))).toBeUndefined();
    expect(local.addressOf("@webcall_alf=40x.org:example.org" as never)).toBeUndefined();
  });
});
