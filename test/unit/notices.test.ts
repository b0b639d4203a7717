import { formatDuration, endedNotice } from "../../src/calls/notices";

describe("call notices", () => {
  it.each([[0, "0s"], [45_000, "45s"], [192_000, "3m 12s"], [3_725_000, "1h 2m 5s"]])("formats %d ms as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
  it("says how long a call lasted", () => {
    expect(endedNotice("alf@employer.com", 192_400)).toBe("Call with alf@employer.com ended after 3m 12s.");
  });
});
