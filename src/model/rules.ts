import { Address } from "../ids/address";
import { MatrixUserId } from "../ids/matrix";

/**
 * Receiver chooses: each Matrix user's ordered rules decide, per arriving
 * call, whether it rings, is refused (neutrally), or is forwarded. The first
 * rule whose conditions all hold decides; a rule with no conditions matches
 * every caller. When none matches, the user's default applies, and for users
 * who never chose one, the bridge's.
 */

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export type RuleAction = "ring" | "refuse" | "forward";
/** What happens when no rule matches, for the bridge (config) and for a user's
 *  own default: ring, refuse, or ring only verified callers (refusing the rest). */
export const DEFAULT_ACTIONS = ["ring", "refuse", "ring_verified"] as const;
export type DefaultAction = (typeof DEFAULT_ACTIONS)[number];

/** One rule as stored, sent over the provisioning API and shown to users. */
export interface Rule {
  // ---- who (all given conditions must hold) ----
  /** The caller's address, exact or a glob: `*` any run of characters, `?` one
   *  (e.g. `*@employer.com`). The domain part is compared case-insensitively. */
  caller?: string;
  /** The caller's domain, e.g. `employer.com`; `*.employer.com` matches its subdomains. */
  domain?: string;
  /** true: only anonymous callers (no callerId); false: only callers with an address. */
  anonymous?: boolean;
  /** true: only verified callers; false: only unverified ones. Until node
   *  signatures exist every remote caller is unverified. */
  verified?: boolean;
  // ---- when (in timeZone) ----
  /** Days of the week (non-empty). For a window past midnight, the day it starts. */
  days?: Weekday[];
  /** "HH:MM" local time, both or neither; from > to wraps past midnight; to may be "24:00". */
  from?: string;
  to?: string;
  /** IANA zone the days and times are read in; absent = UTC. */
  timeZone?: string;
  // ---- what ----
  action: RuleAction;
  /** The address calls are forwarded to; present exactly when action is "forward". */
  forwardTo?: string;
  /** A short name shown in notices, e.g. "work hours". */
  label?: string;
}

/** Everything one user chose. */
export interface UserRules {
  userId: MatrixUserId;
  rules: Rule[];
  /** What happens when no rule matches; null = the bridge's default. */
  defaultAction: DefaultAction | null;
  /** Zone for new rules written without one (bot commands, `test … at`); null = the bridge's default zone. */
  timeZone: string | null;
  /** Post a notice in the caller's DM when a call is refused (off: refused calls are silent). */
  notifyRefused: boolean;
  /** Bumped on every save; 0 = never saved. Saves are conditional on it, so
   *  two concurrent edits cannot lose one another. */
  version: number;
}

/** What a decision is made from. */
export interface CallFacts {
  /** null = anonymous */
  caller: Address | null;
  verified: boolean;
  /** ms since the epoch */
  at: number;
}

export interface Decision {
  /** Never "ring_verified": a default of ring_verified decides "ring" for a
   *  verified caller and "refuse" for the rest. */
  action: RuleAction;
  /** Set when action is "forward". */
  forwardTo?: Address;
  /** 1-based number of the rule that fired; null when a default decided. */
  rule: number | null;
  by: "rule" | "user_default" | "bridge_default";
  /** The firing rule's label, if it has one. */
  label?: string;
}

/** An edit to a user's rules; bot commands and the provisioning API both
 *  reduce to these, applied to the current rules by applyEdit. */
export type RuleEdit =
  | { kind: "add"; rule: Rule; /** 1-based position; absent = at the end */ position?: number }
  | { kind: "remove"; rule: number }
  | { kind: "move"; rule: number; to: number }
  | { kind: "default"; action: DefaultAction | null }
  | { kind: "timezone"; timeZone: string | null }
  | { kind: "notify_refused"; on: boolean };

/** A bot command or edit that cannot be understood or applied. The message
 *  is shown to the user as is, and names the part that is wrong. */
export class RuleError extends Error {
  constructor(message: string, readonly part?: string) {
    super(message);
    this.name = "RuleError";
  }
}
