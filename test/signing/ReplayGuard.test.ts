import { ReplayGuard } from "../../src/signing/ReplayGuard";

describe("ReplayGuard", () => {
  it("accepts a signature once, then calls it a replay", () => {
    const guard = new ReplayGuard(10, 1000);
    expect(guard.check("a.example", "sig1", 0)).toBe("fresh");
    expect(guard.check("a.example", "sig1", 1)).toBe("replay");
    expect(guard.check("a.example", "sig1", 999)).toBe("replay");
    expect(guard.size).toBe(1);
  });

  it("keeps origins apart", () => {
    const guard = new ReplayGuard(10, 1000);
    expect(guard.check("a.example", "sig", 0)).toBe("fresh");
    expect(guard.check("b.example", "sig", 0)).toBe("fresh");
    expect(guard.check("a.example", "sig2", 0)).toBe("fresh");
    expect(guard.check("b.example", "sig", 0)).toBe("replay");
    expect(guard.size).toBe(3);
  });

  it("forgets a signature once its window is over", () => {
    const guard = new ReplayGuard(10, 1000);
    guard.check("a.example", "old", 0);
    guard.check("a.example", "newer", 500);
    expect(guard.check("a.example", "old", 999)).toBe("replay");
    expect(guard.check("a.example", "old", 1000)).toBe("fresh"); // expired at 1000, remembered afresh
    expect(guard.size).toBe(2);
    expect(guard.check("a.example", "newer", 1499)).toBe("replay");
    expect(guard.check("a.example", "x", 2000)).toBe("fresh"); // "old" (until 2000) and "newer" (1500) are gone
    expect(guard.size).toBe(1);
    expect(guard.check("a.example", "newer", 2001)).toBe("fresh");
  });

  it("when full of live signatures, refuses new ones instead of forgetting one", () => {
    const guard = new ReplayGuard(3, 1000);
    expect(["s1", "s2", "s3"].map((s, i) => guard.check("a.example", s, i))).toEqual(["fresh", "fresh", "fresh"]);
    expect(guard.check("a.example", "s4", 10)).toBe("full");
    expect(guard.check("b.example", "s1", 10)).toBe("full");
    // A replay is still recognised as one when full.
    expect(guard.check("a.example", "s2", 10)).toBe("replay");
    expect(guard.size).toBe(3);
    // "full" did not remember s4.
    expect(guard.check("a.example", "s4", 999)).toBe("full");
    // Once the oldest expires there is room again, for exactly one.
    expect(guard.check("a.example", "s4", 1000)).toBe("fresh");
    expect(guard.check("a.example", "s5", 1000)).toBe("full");
    expect(guard.check("a.example", "s1", 1000)).toBe("full"); // s1 is forgotten, but there is no room for it
    expect(guard.check("a.example", "s5", 1002)).toBe("fresh");
    expect(guard.size).toBe(2);
  });

  it("expires a large backlog all at once", () => {
    const guard = new ReplayGuard(5000, 100);
    for (let i = 0; i < 5000; i++) expect(guard.check("a.example", `s${i}`, i / 100)).toBe("fresh");
    expect(guard.check("a.example", "late", 60)).toBe("full");
    expect(guard.check("a.example", "late", 200)).toBe("fresh");
    expect(guard.size).toBe(1);
  });
});
