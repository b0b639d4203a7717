import { TRANSITIONS } from "../../src/model/transitions";
import { codeSpans, readDoc, section, table } from "../docs/markdownTables";

/** docs/call-states.md's transition table is the code's (src/model/transitions.ts), row for row. */
describe("docs/call-states.md", () => {
  const rows = table(section(readDoc("docs/call-states.md"), "Transitions"), ["machine", "state", "event", "next", "actions"]);

  test("has exactly the code's transitions, in the same order, with the same actions", () => {
    const doc = rows.map((r) => ({
      machine: r.machine, state: codeSpans(r.state!)[0], event: codeSpans(r.event!)[0], next: codeSpans(r.next!)[0], actions: r.actions,
    }));
    expect(doc).toEqual(TRANSITIONS.map((t) => ({ ...t })));
  });

  test("every event leads to one state whatever it moves from, and no state takes an event twice", () => {
    const seen = new Set<string>();
    const next = new Map<string, string>();
    for (const t of TRANSITIONS) {
      const key = `${t.machine}:${t.state}:${t.event}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
      const ev = `${t.machine}:${t.event}`;
      expect(next.get(ev) ?? t.next).toBe(t.next);
      next.set(ev, t.next);
    }
  });
});
