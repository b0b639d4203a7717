import Ajv2020, { ErrorObject } from "ajv/dist/2020";
import { DomainError } from "../errors/DomainError";
import { parseAddress } from "../ids/address";
import { WEEKDAYS } from "../model/rules";
import { isTimeZone } from "./zone";

/**
 * The shape of a Rule (see types.ts), for the provisioning API and for
 * anything read back from storage. The schema covers what JSON Schema can
 * say; `ruleProblems` adds the checks it cannot (real zones, real addresses).
 */

const HOST_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const HHMM = "^([01][0-9]|2[0-3]):[0-5][0-9]$";
const HHMM_OR_END = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$";

export const ruleSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://webcall.invalid/schemas/bridge/rule.json",
  title: "Rule",
  type: "object",
  additionalProperties: false,
  required: ["action"],
  properties: {
    caller: { type: "string", minLength: 1, maxLength: 512 },
    domain: { type: "string", maxLength: 255, pattern: `^(\\*\\.)?${HOST_LABEL}(\\.${HOST_LABEL})*$` },
    anonymous: { type: "boolean" },
    verified: { type: "boolean" },
    days: { type: "array", minItems: 1, uniqueItems: true, items: { enum: [...WEEKDAYS] } },
    from: { type: "string", pattern: HHMM },
    to: { type: "string", pattern: HHMM_OR_END },
    timeZone: { type: "string", minLength: 1, maxLength: 64 },
    action: { enum: ["ring", "refuse", "forward"] },
    forwardTo: { type: "string", minLength: 3, maxLength: 512 },
    label: { type: "string", minLength: 1, maxLength: 64 },
  },
  dependentRequired: { from: ["to"], to: ["from"] },
  // `required` so that a rule with no action is not taken for a forward.
  if: { required: ["action"], properties: { action: { const: "forward" } } },
  then: { required: ["forwardTo"] },
  else: { not: { required: ["forwardTo"] } },
} as const;

/** A user's rules, in order; the first that matches decides. */
export const rulesSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://webcall.invalid/schemas/bridge/rules.json",
  title: "Rules",
  type: "array",
  items: { $ref: ruleSchema.$id },
} as const;

// strictRequired would reject `then: { required: ["forwardTo"] }`, whose
// property is declared one level up; everything else stays strict.
const ajv = new Ajv2020({ allErrors: false, strict: true, strictRequired: false });
ajv.addSchema(ruleSchema);
ajv.addSchema(rulesSchema);
const validateRule = ajv.getSchema(ruleSchema.$id)!;

/** `/days/0` → `rule.days[0]` */
function fieldName(where: string, instancePath: string): string {
  return instancePath.split("/").slice(1).reduce((name, key) => (/^\d+$/.test(key) ? `${name}[${key}]` : `${name}.${key}`), where);
}

function schemaMessage(where: string, error: ErrorObject, rule: Record<string, unknown>): string {
  const field = fieldName(where, error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "type":
      return error.instancePath === "" ? `${where} must be an object` : `${field} must be a ${String(params.type)}`;
    case "additionalProperties":
      return `${field}.${String(params.additionalProperty)} is not a rule field`;
    case "required":
      return params.missingProperty === "forwardTo"
        ? `${field}.forwardTo is needed when the action is "forward"`
        : `${field}.${String(params.missingProperty)} is missing`;
    case "not":
      return `${field}.forwardTo is only allowed when the action is "forward"`;
    case "dependentRequired":
      return `${field}.${String(params.property)} needs ${field}.${String(params.missingProperty)}: give both or neither`;
    case "enum":
      return error.instancePath === "/action"
        ? `${field} must be one of ring, refuse, forward`
        : `${field} must be one of ${WEEKDAYS.join(", ")}`;
    case "minItems":
      return `${field} must name at least one day`;
    case "uniqueItems":
      return `${field} names a day twice`;
    case "minLength":
    case "maxLength": {
      const limits = ruleSchema.properties[error.instancePath.slice(1) as keyof typeof ruleSchema.properties] as { minLength?: number; maxLength?: number };
      return `${field} must be ${limits.minLength ?? 0}–${limits.maxLength ?? "any"} characters`;
    }
    case "pattern": {
      const value = JSON.stringify(rule[error.instancePath.slice(1)]);
      if (error.instancePath === "/domain") return `${field} ${value} is not a domain like employer.com or *.employer.com`;
      return `${field} ${value} is not a time HH:MM from 00:00 to ${error.instancePath === "/to" ? "24:00" : "23:59"}`;
    }
    default:
      return `${field} ${error.message ?? "is not valid"}`;
  }
}

// Local part: address characters plus the glob characters; domain likewise.
const CALLER_LOCAL = /^[A-Za-z0-9._=+/*?-]+$/;
const CALLER_DOMAIN = /^[A-Za-z0-9.*?-]+$/;

/** What only code can check; the value has already passed the schema. */
function semanticProblem(where: string, rule: Record<string, unknown>): string | undefined {
  const { caller, timeZone, forwardTo, from, to, anonymous, domain } = rule;
  if (typeof caller === "string") {
    const at = caller.lastIndexOf("@");
    const local = caller.slice(0, Math.max(at, 0));
    const host = at < 0 ? "" : caller.slice(at + 1);
    if (!CALLER_LOCAL.test(local) || !CALLER_DOMAIN.test(host)) {
      return `${where}.caller ${JSON.stringify(caller)} is not an address or a pattern like *@employer.com`;
    }
  }
  if (anonymous === true && (caller !== undefined || domain !== undefined)) {
    return `${where}.anonymous is true, so ${where}.${caller !== undefined ? "caller" : "domain"} could never match: anonymous callers have no address`;
  }
  if (typeof timeZone === "string" && !isTimeZone(timeZone)) {
    return `${where}.timeZone ${JSON.stringify(timeZone)} is not an IANA time zone (like Europe/London)`;
  }
  if (typeof forwardTo === "string") {
    try {
      parseAddress(forwardTo);
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      return `${where}.forwardTo ${JSON.stringify(forwardTo)} is not an address like alice@example.org`;
    }
  }
  if (from !== undefined && from === to) {
    return `${where}.from and ${where}.to are both ${JSON.stringify(from)}; use 00:00 to 24:00 for the whole day`;
  }
  return undefined;
}

/** The first thing wrong with a rule, as a sentence naming the field, or
 *  undefined when it is a valid Rule. */
export function ruleProblems(rule: unknown, where = "rule"): string | undefined {
  if (!validateRule(rule)) {
    const error = validateRule.errors?.[0];
    return error ? schemaMessage(where, error, (rule ?? {}) as Record<string, unknown>) : `${where} is not valid`;
  }
  return semanticProblem(where, rule as Record<string, unknown>);
}

/** The first thing wrong with a list of rules (`rules[2].timeZone …`). */
export function rulesProblems(rules: unknown): string | undefined {
  if (!Array.isArray(rules)) return "rules must be an array";
  for (const [i, rule] of rules.entries()) {
    const problem = ruleProblems(rule, `rules[${i}]`);
    if (problem) return problem;
  }
  return undefined;
}
