import { HelpEntry, renderHelpText } from "../rules/helpText";
import { escapeHtml, Message } from "../rules/ruleText";

/** `rota help`: every rota command. The defaults named here are edits.ts's. */

const READ: readonly HelpEntry[] = [
  { usage: "rota", what: "this room's rota at a glance, and these commands" },
  { usage: "rota who", what: "who is on call now, until when, and who is next" },
  { usage: "rota shifts [n]", what: "the next n shifts (5 unless you say), in the rota's zone", example: "rota shifts 10" },
  { usage: "rota members", what: "the rotation order" },
  { usage: "rota rules", what: "the rules callers of the rota are decided by" },
  { usage: "rota calendar", what: "the URL of the shifts as a calendar to subscribe to (anyone with the URL can read the shifts)" },
];

const CHANGE: readonly HelpEntry[] = [
  { usage: "rota create NAME", what: "make this room the rota for NAME@this-domain: daily handover 09:00 in the bridge's zone, the room's members in join order, escalate 30s then all",
    example: "rota create on-call" },
  { usage: "rota delete", what: "this room is no rota any more" },
  { usage: "rota members <who…>|room", what: "the rotation order: Matrix users and WebCall addresses, or room for the room's joined members in join order",
    example: "rota members @alice:example.org @bob:example.org carol@hello.com" },
  { usage: "rota weekly <day> <HH:MM> [zone]", what: "hand over once a week", example: "rota weekly mon 09:00 Europe/London" },
  { usage: "rota daily <HH:MM> [zone]", what: "hand over every day", example: "rota daily 08:00 Europe/Berlin" },
  { usage: "rota cover <who> [from <time>] until <time>", what: "someone is on call instead, from now or from a time (in the rota's zone)",
    example: "rota cover @bob:example.org from 2026-12-03 09:00 until 2026-12-04 18:00" },
  { usage: "rota uncover <n>", what: "take cover n back", example: "rota uncover 2" },
  { usage: "rota escalate <time> [then all]", what: "ring the person on call for that long, then the next in order (or, with then all, everyone at once)",
    example: "rota escalate 30s then all" },
  { usage: "rota ring all", what: "ring every member at once from the start" },
  { usage: "rota rules <rule command>", what: "the rule commands you know from a DM with me, for callers of the rota",
    example: "rota rules allow *@customer.com" },
  { usage: "rota calendar reset", what: "a new calendar URL; the old one stops working" },
];

export function renderRotaHelp(): Message {
  const intro = "A room can be an on-call rota: calls to its address ring whoever is on call. Anyone in the room can read it; members who may change the room's settings can change it. I tell the room when the person on call changes, and remind the next person an hour before their shift.";
  return renderHelpText(intro, [{ title: "To read:", entries: READ }, { title: "To change:", entries: CHANGE }]);
}

/** The line the DM's help ends with, pointing at rotas. */
export function rotaHelpPointer(): Message {
  const text = "On-call rotas: invite me to a team room (not a direct chat) and send rota help there.";
  return { body: text, html: `<p>${escapeHtml(text)}</p>` };
}
