import yaml from "js-yaml";
import { SchemaNode as Node, schemaRoot } from "./load";

/** Comment lines are wrapped to this width (indentation included). */
const WIDTH = 80;

const HEADER = [
  "matrix-appservice-webcall configuration.",
  "",
  "Generated from src/config/schema.ts by `npm run config:sample`; do not edit",
  "by hand. Keys marked REQUIRED must be set; every other key shows its default",
  "and may be left out.",
];


/**
 * config.sample.yaml, derived from the schema: every key in schema order,
 * its description as a comment, its default (or, for a required key, an
 * example). An optional key with neither default nor effect unless set
 * (database.url) is shown commented out with its example.
 */
export function generateSample(schema: Node = schemaRoot): string {
  const lines = HEADER.map((l) => (l ? `# ${l}` : "#"));
  const required = new Set(schema.required ?? []);
  for (const [key, node] of Object.entries(schema.properties ?? {})) {
    lines.push("");
    emit(lines, key, node, required.has(key), 0);
  }
  return lines.join("\n") + "\n";
}

function emit(lines: string[], key: string, node: Node, isRequired: boolean, depth: number): void {
  const indent = "  ".repeat(depth);
  const facts = [isRequired ? "REQUIRED." : "", constraint(node)].filter(Boolean).join(" ");
  for (const text of [node.description ?? "", facts]) {
    for (const l of wrap(text, WIDTH - indent.length - 2)) lines.push(`${indent}# ${l}`);
  }

  if (node.type === "object" && node.properties) {
    lines.push(`${indent}${key}:`);
    const required = new Set(node.required ?? []);
    for (const [child, childNode] of Object.entries(node.properties)) {
      emit(lines, child, childNode, required.has(child), depth + 1);
    }
    return;
  }
  if (node.default !== undefined) {
    lines.push(`${indent}${key}: ${scalar(node.default)}`);
  } else if (node.examples?.length) {
    const line = `${key}: ${scalar(node.examples[0])}`;
    lines.push(isRequired ? `${indent}${line}` : `${indent}# ${line}`);
  } else {
    throw new Error(`config schema: ${key} has neither a default nor an example to show`);
  }
}

/** What the schema allows beyond the type, in words. */
function constraint(node: Node): string {
  if (node.enum) return `One of: ${node.enum.map(String).join(", ")}.`;
  if (node.type !== "integer") return "";
  const { minimum: min, maximum: max } = node;
  if (min !== undefined && max !== undefined) return `Range: ${min} to ${max}.`;
  if (min !== undefined) return `At least ${min}.`;
  if (max !== undefined) return `At most ${max}.`;
  return "";
}

function scalar(value: unknown): string {
  return yaml.dump(value, { lineWidth: -1 }).trimEnd();
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) out.push(line);
  return out;
}
