import { HelpEntry, renderHelpText } from "./helpText";
import { Message } from "./ruleText";

/** The bot's `help`: every command, what it does and an example. */

const COMMANDS: readonly HelpEntry[] = [
  { usage: "rules", what: "show your rules, in the order they are tried" },
  { usage: "allow [who] [when]", what: "let matching calls ring", example: "allow *@employer.com on mon-fri 09:00-17:00" },
  { usage: "refuse [who] [when]", what: "refuse matching calls", example: "refuse anonymous" },
  { usage: "forward [who] to <address> [when]", what: "send matching calls on to another address",
    example: "forward to alice@hello.com on weekdays from 18:00 to 08:00 in Europe/London" },
  { usage: "remove <n>", what: "remove rule n", example: "remove 2" },
  { usage: "move <n> to <m>", what: "move rule n to position m", example: "move 3 to 1" },
  { usage: "default ring|refuse|verified|bridge", what: "what happens when no rule matches: ring, refuse, ring verified callers only (refusing the rest), or follow the bridge's default",
    example: "default verified" },
  { usage: "timezone <zone>|bridge", what: "the zone for rules written without one", example: "timezone Europe/London" },
  { usage: "notify refused on|off", what: "note refused calls in your chat with the caller, or keep them silent", example: "notify refused off" },
  { usage: "test <caller> [verified] [at <time>]", what: "see what would happen to a call, without ringing anyone",
    example: "test alf@employer.com at mon 10:00" },
  { usage: "link", what: "your call link, which anyone can open in a browser to call you, and its QR code. Link callers are anonymous: let them ring with allow anonymous (at the times you choose)",
    example: "allow anonymous on weekdays 09:00-17:00" },
  { usage: "help", what: "this list" },
];

const NOTES: readonly HelpEntry[] = [
  { usage: "who", what: "anyone, anonymous, verified or unverified, an address (alf@employer.com), a pattern (*@employer.com) or a domain (employer.com, *.employer.com)" },
  { usage: "when", what: "on mon-fri, weekdays, weekends, daily or mon,wed,fri; 09:00-17:00 or from 22:00 to 06:00; in Europe/London" },
  { usage: "as \"label\"", what: "names a rule; the name is shown when it fires", example: "refuse anonymous as \"no strangers\"" },
];

export function renderHelp(): Message {
  const intro = "Your rules decide what happens to each call: the first rule that matches it wins.";
  return renderHelpText(intro, [{ title: "Commands:", entries: COMMANDS }, { title: "Where:", entries: NOTES }]);
}
