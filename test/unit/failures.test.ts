import { DomainError } from "../../src/errors/DomainError";
import { failureKind } from "../../src/matrix/failures";
import { MatrixRequestError } from "../../src/matrix/HomeserverClient";
import { bearerToken } from "../../src/util/bearer";

describe("which failures of an event's handler may pass", () => {
  const cases: [string, unknown, "passing" | "lasting"][] = [
    ["join refused: not invited (403)", new MatrixRequestError(403, "M_FORBIDDEN", "POST /join: You are not invited to this room"), "lasting"],
    ["unknown room (404)", new MatrixRequestError(404, "M_NOT_FOUND", "no such room"), "lasting"],
    ["M_UNKNOWN with a 400", new MatrixRequestError(400, "M_UNKNOWN", "bad"), "lasting"],
    ["a proxy's HTML 404", new MatrixRequestError(404, "M_NOT_JSON", "homeserver sent invalid JSON"), "lasting"],
    ["our own 4xx", new DomainError("WEBCALL_BAD_EVENT", "malformed"), "lasting"],
    ["rate limited (429)", new MatrixRequestError(429, "M_LIMIT_EXCEEDED", "slow down"), "passing"],
    ["request timeout (408)", new MatrixRequestError(408, "M_UNKNOWN", "timeout"), "passing"],
    ["homeserver 502", new MatrixRequestError(502, "M_UNKNOWN", "bad gateway"), "passing"],
    ["homeserver timed out", new MatrixRequestError(504, "M_TIMEOUT", "timed out"), "passing"],
    ["homeserver unreachable", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "passing"],
    ["connection reset", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), "passing"],
    ["PostgreSQL shutting down (57P01)", Object.assign(new Error("terminating connection"), { code: "57P01" }), "passing"],
    ["serialization failure (40001)", Object.assign(new Error("could not serialize"), { code: "40001" }), "passing"],
    ["pool connect timeout", new Error("timeout exceeded when trying to connect"), "passing"],
    ["connection terminated", new Error("Connection terminated unexpectedly"), "passing"],
    ["PGlite closed", new Error("PGlite is closed"), "passing"],
    ["unique violation (23505)", Object.assign(new Error("duplicate key"), { code: "23505" }), "lasting"],
    ["a bug", new TypeError("x is undefined"), "lasting"],
    ["not an Error at all", "boom", "lasting"],
  ];
  it.each(cases)("%s", (_name, error, kind) => {
    expect(failureKind(error)).toBe(kind);
  });
});

describe("the bearer parser every listener shares", () => {
  it.each([
    ["Bearer abc", "abc"], ["bearer abc", "abc"], ["BEARER abc", "abc"], ["BeArEr abc", "abc"], ["Bearer   abc", "abc"], ["Bearer abc  ", "abc"],
    ["Basic abc", undefined], ["Bearer", undefined], ["Bearer ", undefined], ["Bearerabc", undefined], ["Bearer a b", undefined], [undefined, undefined],
  ])("%p → %p", (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});
