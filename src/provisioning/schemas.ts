import Ajv2020, { ErrorObject, ValidateFunction } from "ajv/dist/2020";
import { ruleProblems, ruleSchema } from "../rules/schema";
import { DefaultAction, Rule } from "../model/rules";
import { badValue } from "./errors";

/**
 * The JSON Schemas of every provisioning request body (draft 2020-12), and
 * their validation. Rules inside a body refer to the rule schema in
 * src/rules/schema.ts, so there is one description of a rule; a bad rule is
 * described by `ruleProblems`, which words it for people.
 */

const BASE = "https://webcall.invalid/schemas/bridge/provisioning/";
/** null = follow the bridge's default; ring_verified rings verified callers and refuses the rest. */
const DEFAULT_ACTION = { enum: ["ring", "refuse", "ring_verified", null] } as const;
const TIME_ZONE = { type: ["string", "null"], minLength: 1, maxLength: 64 } as const;
const POSITION = { type: "integer", minimum: 1, maximum: 100000 } as const;

export const exchangeOpenIdSchema = {
  $id: `${BASE}exchange-openid.json`,
  title: "POST /v1/exchange_openid",
  type: "object",
  // Open, like the library it is handed to: other bridges' widgets may send more.
  required: ["openIdToken", "matrixServer"],
  properties: {
    openIdToken: { type: "string", minLength: 1, maxLength: 4096 },
    matrixServer: { type: "string", minLength: 1, maxLength: 255 },
  },
} as const;

export const replaceRulesSchema = {
  $id: `${BASE}replace-rules.json`,
  title: "PUT /v1/rules",
  type: "object",
  additionalProperties: false,
  required: ["rules", "defaultAction", "timeZone", "notifyRefused", "version"],
  properties: {
    rules: { type: "array", items: { $ref: ruleSchema.$id } },
    defaultAction: DEFAULT_ACTION,
    timeZone: TIME_ZONE,
    notifyRefused: { type: "boolean" },
    /** The version the client read; the write fails with 409 if it is no longer current. */
    version: { type: "integer", minimum: 0 },
  },
} as const;

export const addRuleSchema = {
  $id: `${BASE}add-rule.json`,
  title: "POST /v1/rules",
  type: "object",
  additionalProperties: false,
  required: ["rule"],
  properties: {
    rule: { $ref: ruleSchema.$id },
    /** 1-based; absent = at the end */
    position: POSITION,
  },
} as const;

export const moveRuleSchema = {
  $id: `${BASE}move-rule.json`,
  title: "POST /v1/rules/move",
  type: "object",
  additionalProperties: false,
  required: ["from", "to"],
  properties: { from: POSITION, to: POSITION },
} as const;

export const settingsSchema = {
  $id: `${BASE}settings.json`,
  title: "PUT /v1/settings",
  type: "object",
  additionalProperties: false,
  minProperties: 1,
  properties: {
    defaultAction: DEFAULT_ACTION,
    timeZone: TIME_ZONE,
    notifyRefused: { type: "boolean" },
  },
} as const;

export const testCallSchema = {
  $id: `${BASE}test-call.json`,
  title: "POST /v1/test",
  type: "object",
  additionalProperties: false,
  required: ["caller"],
  properties: {
    /** The caller's address; null = anonymous. */
    caller: { type: ["string", "null"], minLength: 3, maxLength: 512 },
    verified: { type: "boolean" },
    /** When the call arrives, ms since the epoch; absent = now. */
    at: { type: "integer", minimum: 0, maximum: 8640000000000000 },
  },
} as const;

export interface ExchangeOpenIdBody { openIdToken: string; matrixServer: string }
export interface ReplaceRulesBody { rules: Rule[]; defaultAction: DefaultAction | null; timeZone: string | null; notifyRefused: boolean; version: number }
export interface AddRuleBody { rule: Rule; position?: number }
export interface MoveRuleBody { from: number; to: number }
export interface SettingsBody { defaultAction?: DefaultAction | null; timeZone?: string | null; notifyRefused?: boolean }
export interface TestCallBody { caller: string | null; verified?: boolean; at?: number }

// strictRequired is off for the rule schema's `then: {required: ["forwardTo"]}`
// (see src/rules/schema.ts); everything else is strict.
const ajv = new Ajv2020({ allErrors: false, strict: true, strictRequired: false, allowUnionTypes: true });
ajv.addSchema(ruleSchema);

/** Compiles a body schema on the one validator (rule schema included). */
export function compile<T>(schema: object): ValidateFunction<T> {
  return ajv.compile<T>(schema);
}

const validators = {
  exchangeOpenId: compile<ExchangeOpenIdBody>(exchangeOpenIdSchema),
  replaceRules: compile<ReplaceRulesBody>(replaceRulesSchema),
  addRule: compile<AddRuleBody>(addRuleSchema),
  moveRule: compile<MoveRuleBody>(moveRuleSchema),
  settings: compile<SettingsBody>(settingsSchema),
  testCall: compile<TestCallBody>(testCallSchema),
};

type Bodies = { [K in keyof typeof validators]: (typeof validators)[K] extends ValidateFunction<infer T> ? T : never };

/** `/rules/0/days` → `body.rules[0].days` */
function fieldName(instancePath: string): string {
  return instancePath.split("/").slice(1).reduce((name, key) => (/^\d+$/.test(key) ? `${name}[${key}]` : `${name}.${key}`), "body");
}

/** The rule an error is inside of, if any: its value and its field name. */
function enclosingRule(body: unknown, instancePath: string): { rule: unknown; where: string } | undefined {
  const match = /^\/(rule)(?:\/|$)|^\/rules\/(\d+)(?:\/|$)/.exec(instancePath);
  if (!match) return undefined;
  const b = body as { rule?: unknown; rules?: unknown[] };
  return match[1] ? { rule: b.rule, where: "body.rule" } : { rule: b.rules?.[Number(match[2])], where: `body.rules[${match[2]}]` };
}

function describe(body: unknown, error: ErrorObject): string {
  const inRule = enclosingRule(body, error.instancePath);
  const ruleMessage = inRule && ruleProblems(inRule.rule, inRule.where);
  if (ruleMessage) return ruleMessage;
  const field = fieldName(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "type":
      return error.instancePath === "" ? "body must be a JSON object" : `${field} must be ${String(params.type).split(",").join(" or ")}`;
    case "required":
      return `${field}.${String(params.missingProperty)} is missing`;
    case "additionalProperties":
      return `${field}.${String(params.additionalProperty)} is not an allowed field`;
    case "minProperties":
      return `${field} must set at least one of ${Object.keys(settingsSchema.properties).join(", ")}`;
    case "enum":
      return `${field} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "minimum":
    case "maximum":
      return `${field} must be ${error.keyword === "minimum" ? "at least" : "at most"} ${String(params.limit)}`;
    case "minLength":
    case "maxLength":
      return `${field} must be ${error.keyword === "minLength" ? "at least" : "at most"} ${String(params.limit)} characters`;
    default:
      return `${field} ${error.message ?? "is invalid"}`;
  }
}

/** What the schema cannot say about the rules in a valid body (real zones,
 *  real addresses), named as body fields like the schema's own errors. */
function rulesInBody(body: unknown): string | undefined {
  const { rule, rules } = body as { rule?: unknown; rules?: unknown };
  if (rule !== undefined) return ruleProblems(rule, "body.rule");
  if (!Array.isArray(rules)) return undefined;
  for (const [i, each] of rules.entries()) {
    const problem = ruleProblems(each, `body.rules[${i}]`);
    if (problem) return problem;
  }
  return undefined;
}

/** The body, typed, or a 400 M_AS_BAD_VALUE naming the first bad field. */
export function validateBody<K extends keyof typeof validators>(kind: K, body: unknown): Bodies[K] {
  return checkBody(validators[kind] as ValidateFunction<Bodies[K]>, body);
}

/** validateBody for a schema compiled elsewhere (the rota routes'). */
export function checkBody<T>(validate: ValidateFunction<T>, body: unknown): T {
  if (!validate(body)) {
    const error = validate.errors?.[0];
    throw badValue(error ? describe(body, error) : "body is invalid");
  }
  const problem = rulesInBody(body);
  if (problem) throw badValue(problem);
  return body;
}
