import { MatrixUserId } from "../ids/matrix";
import { Rota, RotaMember, Shift } from "../model/rota";
import { wallClock } from "../rules/zone";
import { memberKey, onCallAt, shifts } from "./schedule";
import { memberText, whenText, whoText } from "./shiftText";

/**
 * What a rota's room is told of its schedule (docs/rotas.md, "Handover
 * announcements"), as pure code: given the rota, the moment and what the
 * room was last told, which announcement or reminder is due, what to
 * remember after sending it, and when to look again. Every moment comes
 * from the schedule (handovers counted in the rota's zone), so a timer set
 * for the next wake never drifts across a daylight-saving change.
 */

/** What the room was last told (the store's rota_announcements row). */
export interface Announced {
  /** memberKey of the person announced as on call; null: nobody was. */
  member: string | null;
  /** The start of the shift in force when it was last looked at. */
  shiftFrom: number | null;
  /** The shift last reminded (shiftKey), so each is reminded once. */
  reminded: string | null;
}

export interface RotaNoticeText {
  body: string;
  mentions: MatrixUserId[];
  /** Stable for one announcement: a resend after a restart is the same message. */
  key: string;
}

export interface AnnouncementPlan {
  /** Someone else is on call than the room was told: say who, until when. */
  announce?: RotaNoticeText;
  /** The next person's shift starts within the reminder time. */
  remind?: RotaNoticeText;
  /** What to remember once these are sent (or, after an edit, instead of sending them). */
  next: Announced;
  /** When to look again: the shift's end, the next reminder, or the cap. */
  wakeAt: number;
}

/** How long before a shift its member is reminded. */
export const REMINDER_MS = 60 * 60 * 1000;
/** How far ahead a stretch of one member's shifts is followed (two years of weekly shifts). */
const LOOKAHEAD = 104;

/** One shift, as a stable string. */
export const shiftKey = (shift: Shift): string => `${memberKey(shift.member)}@${shift.from}`;

const mentionsOf = (m: RotaMember): MatrixUserId[] => (m.kind === "matrix" ? [m.userId] : []);

/**
 * The announcement and reminder due at `now`, given what was `announced`
 * (undefined: never, the rota is new to the announcer: nothing is said, the
 * present is remembered). `maxSleepMs` caps the wait, so an edit made
 * elsewhere is noticed.
 */
export function planAnnouncements(rota: Rota, members: readonly RotaMember[], now: number, announced: Announced | undefined,
  maxSleepMs: number): AnnouncementPlan {
  const current = onCallAt(rota, members, now);
  const upcoming = nextPerson(rota, members, now, current);
  const reminderAt = upcoming ? upcoming.from - REMINDER_MS : Infinity;
  const remindable = upcoming && now >= reminderAt && now < upcoming.from ? upcoming : undefined;
  const next: Announced = {
    member: current ? memberKey(current.member) : null,
    shiftFrom: current?.from ?? null,
    reminded: remindable ? shiftKey(remindable) : announced?.reminded ?? null,
  };
  const wakeAt = Math.min(current?.until ?? Infinity, reminderAt > now ? reminderAt : upcoming?.from ?? Infinity, now + maxSleepMs);
  if (!announced) return { next, wakeAt };
  const plan: AnnouncementPlan = { next, wakeAt };
  if (current && next.member !== announced.member) {
    plan.announce = { body: whoText(rota, members, now), mentions: mentionsOf(current.member), key: `announce.${shiftKey(current)}` };
  }
  if (remindable && shiftKey(remindable) !== announced.reminded) plan.remind = reminderText(rota, members, remindable, now);
  return plan;
}

/** The first shift after `now` of someone other than the person on call (or
 *  the first shift at all, when nobody is on call now). */
function nextPerson(rota: Rota, members: readonly RotaMember[], now: number, current: Shift | undefined): Shift | undefined {
  const ahead = shifts(rota, members, current ? current.until : now, LOOKAHEAD);
  const key = current && memberKey(current.member);
  return ahead.find((s) => s.from > now && memberKey(s.member) !== key);
}

/** "Reminder: @alice:example.org is on call from Mon 7 Dec 09:00 until Mon 14 Dec 09:00 (Europe/London)". */
export function reminderText(rota: Rota, members: readonly RotaMember[], shift: Shift, now: number): RotaNoticeText {
  const zone = rota.rotation.zone;
  const year = wallClock(now, zone).year;
  const until = stretchUntil(rota, members, shift);
  const cover = shift.overrideId === undefined ? "" : ` (cover ${shift.overrideId})`;
  return {
    body: `Reminder: ${memberText(shift.member)} is on call${cover} from ${whenText(shift.from, zone, year)} until ${whenText(until, zone, year)} (${zone})`,
    mentions: mentionsOf(shift.member),
    key: `remind.${shiftKey(shift)}`,
  };
}

/** Where the member's run of consecutive shifts starting with `shift` ends. */
function stretchUntil(rota: Rota, members: readonly RotaMember[], shift: Shift): number {
  const key = memberKey(shift.member);
  let until = shift.until;
  for (const s of shifts(rota, members, shift.until, LOOKAHEAD)) {
    if (s.from !== until || memberKey(s.member) !== key) break;
    until = s.until;
  }
  return until;
}
