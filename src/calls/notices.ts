import { CallerIdentity } from "../model/callerIdentity";

/** The short notices a call leaves in its DM, as other call bridges do. */

/** Who is calling and how the call reached the callee, as far as signatures prove it:
 *  "alf@employer.com ✓ verified by employer.com — forwarded by employer.com (work hours rule)". */
export function callerLine(caller: string | null, identity: CallerIdentity): string {
  const hint = identity.nameHint === undefined ? "" : ` who gave the name "${identity.nameHint}" (not verified)`;
  const who = caller === null ? `An anonymous caller${hint}`
    : identity.verified ? `${caller} ✓ verified by ${identity.verifiedBy}` : `${caller} (not verified)`;
  if (identity.forwards.length === 0) return who;
  return `${who} — forwarded by ${identity.forwards.map((f) => `${f.by} (${f.reason})`).join(", then by ")}`;
}

export function incomingNotice(line: string): string {
  return `Incoming call: ${line}.`;
}

export function firstContactNotice(line: string, secondsLeft: number): string {
  return `Incoming call over WebCall: ${line}. Join this room to answer: the call rings for another ${secondsLeft} s.`;
}

export function missedNotice(caller: string): string {
  return `Missed call from ${caller}.`;
}

export function declinedNotice(caller: string): string {
  return `Declined call from ${caller}.`;
}

export function endedNotice(party: string, durationMs: number): string {
  return `Call with ${party} ended after ${formatDuration(durationMs)}.`;
}

/** 3m 12s, 45s, 1h 2m 5s */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  if (h) return `${h}h ${m}m ${s}s`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

export function notPutThroughNotice(callee: string): string {
  return `Your call to ${callee} could not be put through.`;
}

/** Which of the callee's choices decided, in their own words. */
export function byWhat(rule: number | null, label?: string): string {
  if (rule === null) return "your default";
  return label ? `your rule ${rule} (${label})` : `your rule ${rule}`;
}

export function forwardedNotice(caller: string, to: string, by: string): string {
  return `${caller} was forwarded to ${to} by ${by}.`;
}

export function refusedNotice(caller: string, by: string): string {
  return `Refused a call from ${caller} (${by}).`;
}

/** A leg whose call another leg of the same session answered. */
export function answeredElsewhereNotice(caller: string): string {
  return `Call from ${caller} was answered elsewhere.`;
}
