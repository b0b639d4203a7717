import { readFileSync } from "node:fs";
import Ajv, { ErrorObject } from "ajv";
import addFormats from "ajv-formats";
import yaml from "js-yaml";
import { Config, configSchema } from "./schema";

/**
 * A configuration the bridge cannot start with. The message is for the
 * operator: one line per problem, each naming the key by its dotted path
 * (`config.yaml: webcall.port must be an integer (got "abc")`).
 */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(problems.map((p) => `${source}: ${p}`).join("\n"));
    this.name = "ConfigError";
  }
}

/** A schema node as far as this module reads it. */
export interface SchemaNode {
  type?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  required?: readonly string[];
  default?: unknown;
  examples?: readonly unknown[];
  enum?: readonly unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
}

export const schemaRoot = configSchema as unknown as SchemaNode;

// `useDefaults: "empty"` also fills in keys left empty in YAML (`appservice:`
// with every entry commented out parses as null), which `true` would reject.
const ajv = new Ajv({ allErrors: true, useDefaults: "empty", strict: true, verbose: true });
addFormats(ajv, ["uri"]);
const validate = ajv.compile(configSchema as object);

/** Read, validate and complete (defaults filled in) the config file at `path`. */
export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(path, [`cannot read the config file: ${describeIoError(err)}`]);
  }
  return parseConfig(text, path);
}

/** Validate and complete a config given as YAML text; `source` names it in messages. */
export function parseConfig(yamlText: string, source = "config"): Config {
  let data: unknown;
  try {
    data = yaml.load(yamlText, { filename: source });
  } catch (err) {
    if (err instanceof yaml.YAMLException) {
      const at = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : "";
      throw new ConfigError(source, [`not valid YAML${at}: ${err.reason}`]);
    }
    throw err;
  }
  if (data === undefined || data === null) {
    throw new ConfigError(source, ["the file is empty; see config.sample.yaml for the keys it needs"]);
  }
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new ConfigError(source, [`must be a mapping of keys at the top level (got ${describeValue(data)})`]);
  }
  if (!validate(data)) {
    throw new ConfigError(source, dedupe((validate.errors ?? []).map(describeAjvError)));
  }
  const config = data as Config;
  const problems = crossCheck(config);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return config;
}

/** Checks the schema cannot express. Runs only on a config the schema accepted. */
function crossCheck(config: Config): string[] {
  const problems: string[] = [];
  for (const [path, value] of [
    ["homeserver.url", config.homeserver.url],
    ["webcall.publicUrl", config.webcall.publicUrl],
    ["homeserver.openIdUrl", config.homeserver.openIdUrl],
  ] as const) {
    if (value !== undefined && !/^https?:\/\/[^/?#]/i.test(value)) {
      problems.push(`${path} must be an http:// or https:// URL (got ${describeValue(value)})`);
    }
  }
  if (/[/\s@]/.test(config.homeserver.domain)) {
    problems.push(
      `homeserver.domain must be the server name alone, such as example.org (got ${describeValue(config.homeserver.domain)})`,
    );
  }
  if (config.calls.defaultLifetimeMs > config.calls.maxLifetimeMs) {
    problems.push(
      `calls.defaultLifetimeMs (${config.calls.defaultLifetimeMs}) must not be greater than calls.maxLifetimeMs (${config.calls.maxLifetimeMs})`,
    );
  }
  return problems;
}

function describeAjvError(e: ErrorObject): string {
  const at = dottedPath(e.instancePath);
  const got = `(got ${describeValue(e.data)})`;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "additionalProperties": {
      const key = String(p.additionalProperty);
      const known = Object.keys(nodeAt(e.instancePath)?.properties ?? {});
      const guess = closest(key, known);
      return `unknown key ${join(at, key)}${guess ? ` (did you mean ${join(at, guess)}?)` : ""}`;
    }
    case "required": {
      const key = String(p.missingProperty);
      const example = nodeAt(e.instancePath)?.properties?.[key]?.examples?.[0];
      return `${join(at, key)} is required${example === undefined ? "" : ` (for example ${JSON.stringify(example)})`}`;
    }
    case "type":
      return `${at || "the config"} must be ${typeName(String(p.type))} ${got}`;
    case "format":
      return `${at} must be a URL (got ${describeValue(e.data)})`;
    case "minimum":
      return `${at} must be at least ${String(p.limit)} ${got}`;
    case "maximum":
      return `${at} must be at most ${String(p.limit)} ${got}`;
    case "minLength":
      return `${at} must not be empty`;
    case "pattern":
      return `${at} may only contain ${describePattern(String(p.pattern))} ${got}`;
    case "enum":
      return `${at} must be one of ${(p.allowedValues as unknown[]).map(String).join(", ")} ${got}`;
    default:
      return `${at} ${e.message ?? "is not valid"} ${got}`;
  }
}

/** `/webcall/rateLimit` → `webcall.rateLimit` */
function dottedPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
}

function join(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

function nodeAt(pointer: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = schemaRoot;
  for (const seg of pointer.split("/").slice(1)) node = node?.properties?.[seg];
  return node;
}

function typeName(type: string): string {
  switch (type) {
    case "integer":
      return "a whole number";
    case "number":
      return "a number";
    case "string":
      return "a string";
    case "boolean":
      return "true or false";
    case "object":
      return "a section of keys";
    case "array":
      return "a list";
    default:
      return type;
  }
}

/** `^[a-z0-9._=\-/]+$` → `the characters a-z 0-9 . _ = - /` */
function describePattern(pattern: string): string {
  const m = /^\^\[(.*)\]\+\$$/.exec(pattern);
  if (!m) return `text matching ${pattern}`;
  const parts = m[1]!.match(/(\\.|[^\\])(-(\\.|[^\\]))?/g) ?? [];
  return `the characters ${parts.map((t) => t.replace(/\\(.)/g, "$1")).join(" ")}`;
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a section";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…"` : text;
}

function describeIoError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return err instanceof Error ? err.message : String(err);
}

/** The known key nearest to a misspelt one, if it is plausibly a typo. */
function closest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

function dedupe(lines: string[]): string[] {
  return [...new Set(lines)];
}
