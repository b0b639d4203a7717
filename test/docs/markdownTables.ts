import { readFileSync } from "node:fs";
import path from "node:path";

/** Reading the tables of the project's own Markdown, so tests can hold docs to the code. */

export const ROOT = path.resolve(__dirname, "../..");

export function readDoc(relative: string): string {
  return readFileSync(path.join(ROOT, relative), "utf8");
}

/** The text of the section under `heading` (any level), up to the next heading of the same or a higher level. */
export function section(markdown: string, heading: string): string {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => /^#{1,6} /.test(l) && l.replace(/^#+ /, "").trim() === heading);
  if (start < 0) throw new Error(`no section "${heading}"`);
  const level = /^#+/.exec(lines[start] ?? "")?.[0].length ?? 1;
  const end = lines.findIndex((l, i) => i > start && new RegExp(`^#{1,${level}} `).test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
}

/** The first table in `text` whose header row has exactly `columns`: its rows, by column name. */
export function table(text: string, columns: string[]): Record<string, string>[] {
  const lines = text.split("\n");
  const cells = (line: string) => line.trim().replace(/^\||\|$/g, "").split(/(?<!\\)\|/).map((c) => c.trim());
  const start = lines.findIndex((l) => l.trim().startsWith("|") && JSON.stringify(cells(l)) === JSON.stringify(columns));
  if (start < 0) throw new Error(`no table with columns ${columns.join(", ")}`);
  const rows: Record<string, string>[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.trim().startsWith("|")) break;
    const values = cells(line);
    rows.push(Object.fromEntries(columns.map((c, i) => [c, values[i] ?? ""])));
  }
  return rows;
}

/** `a` and `b` in `` `a` or `b` `` */
export function codeSpans(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? "");
}
