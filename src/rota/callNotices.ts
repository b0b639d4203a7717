import { Address } from "../ids/address";
import { MatrixUserId } from "../ids/matrix";

/**
 * The notices a call to a rota leaves in the rota's room (docs/rotas.md,
 * "Calls to a rota"). Each names the members it concerns as people write
 * them (a Matrix user id, or the address of a member on another node), and
 * the caller sends it with the Matrix ids among them in `m.mentions`, so the
 * person rung is notified and nobody else is.
 */

/** A member named in a notice. */
export type NoticeMember = MatrixUserId | Address;

export interface RotaNotice {
  body: string;
  mentions: MatrixUserId[];
}

/** "41 s", "2 min 5 s": how long, as people say it. */
export function seconds(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  if (total < 60) return `${total} s`;
  const s = total % 60;
  return s ? `${Math.floor(total / 60)} min ${s} s` : `${total / 60} min`;
}

/** The caller as the DM notices show them: "alf@customer.com ✓",
 *  "alf@customer.com (not verified)", "an anonymous caller". */
export function callerText(caller: string | null, verified: boolean): string {
  if (caller === null) return "an anonymous caller";
  return verified ? `${caller} ✓` : `${caller} (not verified)`;
}

function list(users: readonly NoticeMember[], onCall: NoticeMember | undefined): string {
  return users.map((u) => (u === onCall ? `${u} (on call)` : u)).join(", ");
}

/** The Matrix users among `members`: a member on another node has no one here to mention. */
function mentionable(members: readonly NoticeMember[]): MatrixUserId[] {
  return members.filter((m): m is MatrixUserId => m.startsWith("@"));
}

/** "Call from alf@customer.com ✓ — ringing @bob:example.org (on call)" */
export function ringingFirst(caller: string, ringing: readonly NoticeMember[], onCall: NoticeMember | undefined): RotaNotice {
  return { body: `Call from ${caller} — ringing ${list(ringing, onCall)}`, mentions: mentionable(ringing) };
}

/** "@bob:example.org did not answer in 30 s — ringing @alice:example.org";
 *  a member who declined is said to have. */
export function escalated(previous: readonly { userId: NoticeMember; declined: boolean }[], stepMs: number | null,
  ringing: readonly NoticeMember[], onCall: NoticeMember | undefined): RotaNotice {
  const declined = previous.filter((p) => p.declined).map((p) => p.userId);
  const silent = previous.filter((p) => !p.declined).map((p) => p.userId);
  const parts = [
    ...(silent.length ? [`${silent.join(", ")} did not answer${stepMs === null ? "" : ` in ${seconds(stepMs)}`}`] : []),
    ...(declined.length ? [`${declined.join(", ")} declined`] : []),
  ];
  const why = parts.length ? parts.join("; ") : "Nobody could be rung";
  return { body: `${why} — ringing ${list(ringing, onCall)}`, mentions: mentionable(ringing) };
}

/** "Answered by @alice:example.org after 41 s" */
export function answered(by: NoticeMember, afterMs: number): RotaNotice {
  return { body: `Answered by ${by} after ${seconds(afterMs)}`, mentions: mentionable([by]) };
}

/** "Missed: nobody answered (3 tried)" */
export function missed(tried: number): RotaNotice {
  return { body: `Missed: nobody answered (${tried} tried)`, mentions: [] };
}

/** "Caller hung up after 12 s" */
export function callerHungUp(afterMs: number): RotaNotice {
  return { body: `Caller hung up after ${seconds(afterMs)}`, mentions: [] };
}

/** Nobody could be rung at all: every member busy or unreachable. */
export function nobodyToRing(caller: string, skipped: number): RotaNotice {
  return { body: `Call from ${caller} — nobody could be rung (${skipped} busy or not reachable)`, mentions: [] };
}
