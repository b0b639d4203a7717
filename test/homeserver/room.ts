/** One room's data: its timeline, current state and the indexes sync and the rules read. No rules here. */
import { membershipOf, type Json, type StoredEvent } from "./types";

interface Change<T> {
  stream: number;
  value: T;
}

export interface Receipt {
  userId: string;
  /** m.receipt content: { eventId: { receiptType: { userId: { ts } } } } */
  content: Json;
  /** m.read.private receipts are shown to their sender only. */
  isPrivate: boolean;
}

const stateKeyOf = (type: string, stateKey: string): string => `${type}\u0000${stateKey}`;

/** The value in force just before `stream` (changes are in stream order). */
function valueBefore<T>(changes: Change<T>[] | undefined, stream: number): T | undefined {
  if (!changes) return undefined;
  for (let i = changes.length - 1; i >= 0; i--) {
    const c = changes[i]!;
    if (c.stream < stream) return c.value;
  }
  return undefined;
}

export class Room {
  readonly events: StoredEvent[] = [];
  /** State events only, in order: enough to rebuild the state at any point cheaply. */
  readonly stateEvents: StoredEvent[] = [];
  readonly state = new Map<string, StoredEvent>();
  readonly joined = new Set<string>();
  readonly aliases = new Set<string>();
  private readonly memberHistory = new Map<string, Change<string>[]>();
  private readonly visibilityHistory: Change<string>[] = [];
  /** Typing users (user id -> expiry ms) and the stream position of the last change. */
  readonly typing = new Map<string, number>();
  typingStream = 0;
  /** m.receipt contents in the order they were made. */
  readonly receipts: Change<Receipt>[] = [];
  /** Cached appservice interest in this room (by appservice id); cleared on member/alias changes. */
  readonly appserviceInterest = new Map<string, boolean>();

  constructor(readonly roomId: string) {}

  get lastStream(): number {
    return this.events.length ? this.events[this.events.length - 1]!.stream : 0;
  }

  getState(type: string, stateKey = ""): StoredEvent | undefined {
    return this.state.get(stateKeyOf(type, stateKey));
  }

  member(userId: string): StoredEvent | undefined {
    return this.getState("m.room.member", userId);
  }

  membership(userId: string): string | undefined {
    const ev = this.member(userId);
    return ev ? membershipOf(ev) : undefined;
  }

  /** The user's membership in the state before the event at `stream`. */
  membershipBefore(userId: string, stream: number): string | undefined {
    return valueBefore(this.memberHistory.get(userId), stream);
  }

  /** history_visibility in the state before the event at `stream` (Synapse's default is "shared"). */
  visibilityBefore(stream: number): string {
    return valueBefore(this.visibilityHistory, stream) ?? "shared";
  }

  /** Adds a persisted event and updates state and indexes. */
  append(ev: StoredEvent): void {
    this.events.push(ev);
    if (ev.state_key === undefined) return;
    const key = stateKeyOf(ev.type, ev.state_key);
    const prev = this.state.get(key);
    if (prev) ev.replaced = prev;
    this.state.set(key, ev);
    this.stateEvents.push(ev);
    if (ev.type === "m.room.member") {
      const m = membershipOf(ev);
      if (m === "join") this.joined.add(ev.state_key);
      else this.joined.delete(ev.state_key);
      let hist = this.memberHistory.get(ev.state_key);
      if (!hist) this.memberHistory.set(ev.state_key, (hist = []));
      hist.push({ stream: ev.stream, value: m });
      this.appserviceInterest.clear();
    } else if (ev.type === "m.room.history_visibility") {
      const v = ev.content["history_visibility"];
      this.visibilityHistory.push({ stream: ev.stream, value: typeof v === "string" ? v : "shared" });
    }
  }

  /** Index of the first event with stream > `stream` (events are in stream order). */
  indexAfter(stream: number): number {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.events[mid]!.stream <= stream) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Full state before the event at `stream` (state events with a lower stream position). */
  stateBefore(stream: number): StoredEvent[] {
    const acc = new Map<string, StoredEvent>();
    for (const ev of this.stateEvents) {
      if (ev.stream >= stream) break;
      acc.set(stateKeyOf(ev.type, ev.state_key!), ev);
    }
    return [...acc.values()];
  }

  /** State events changed in the half-open range (from, to): the latest per key. */
  stateChangedBetween(from: number, to: number): StoredEvent[] {
    const acc = new Map<string, StoredEvent>();
    for (const ev of this.stateEvents) {
      if (ev.stream <= from) continue;
      if (ev.stream >= to) break;
      acc.set(stateKeyOf(ev.type, ev.state_key!), ev);
    }
    return [...acc.values()];
  }

  // --- power levels, read as the spec's auth rules read them ---

  private powerLevels(): Json | undefined {
    return this.getState("m.room.power_levels")?.content;
  }

  userLevel(userId: string): number {
    const pl = this.powerLevels();
    if (!pl) {
      const create = this.getState("m.room.create");
      return create?.sender === userId ? 100 : 0;
    }
    const users = (pl["users"] ?? {}) as Record<string, unknown>;
    return num(users[userId], num(pl["users_default"], 0));
  }

  /** Level needed for an action like "invite", "kick", "ban", "redact". */
  actionLevel(action: "invite" | "kick" | "ban" | "redact"): number {
    const pl = this.powerLevels();
    const dflt = action === "invite" ? 0 : 50;
    return pl ? num(pl[action], dflt) : dflt;
  }

  eventLevel(type: string, isState: boolean): number {
    const pl = this.powerLevels();
    if (!pl) return 0;
    const events = (pl["events"] ?? {}) as Record<string, unknown>;
    return num(events[type], isState ? num(pl["state_default"], 50) : num(pl["events_default"], 0));
  }
}

function num(v: unknown, dflt: number): number {
  if (typeof v === "number") return v;
  if (typeof v === "string" && /^-?\d+$/.test(v.trim())) return parseInt(v, 10);
  return dflt;
}
