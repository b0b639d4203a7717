import { escapeHtml, Message } from "./ruleText";

/** The bot's help messages (`help` in a DM, `rota help` in a team room):
 *  plain and HTML rendered from one table so the two cannot drift apart. */

/** One command: how to write it, what it does, and an example. */
export interface HelpEntry {
  usage: string;
  what: string;
  example?: string;
}

/** A titled list of commands. */
export interface HelpSection {
  title: string;
  entries: readonly HelpEntry[];
}

/** The intro, then each section as a title and one line per command. */
export function renderHelpText(intro: string, sections: readonly HelpSection[]): Message {
  const parts = sections.map(section);
  return {
    body: [intro, ...parts.map((p) => p.body)].join("\n"),
    html: `<p>${escapeHtml(intro)}</p>${parts.map((p) => p.html).join("")}`,
  };
}

function section({ title, entries }: HelpSection): Message {
  const lines = entries.map(line);
  return { body: [title, ...lines.map((l) => l.body)].join("\n"), html: `<p>${escapeHtml(title)}</p><ul>${lines.map((l) => l.html).join("")}</ul>` };
}

function line(entry: HelpEntry): Message {
  const example = entry.example === undefined ? "" : `, e.g. ${entry.example}`;
  const htmlExample = entry.example === undefined ? "" : `, e.g. <code>${escapeHtml(entry.example)}</code>`;
  return {
    body: `• ${entry.usage} — ${entry.what}${example}`,
    html: `<li><code>${escapeHtml(entry.usage)}</code> — ${escapeHtml(entry.what)}${htmlExample}</li>`,
  };
}
