import type { ValidateFunction } from "ajv/dist/2020";
import { ruleSchema } from "../rules/schema";
import { DefaultAction, Rule, Weekday, WEEKDAYS } from "../model/rules";
import { MAX_MEMBERS, MAX_STEP_MS, MIN_STEP_MS } from "../rota/commands";
import { checkBody, compile } from "./schemas";

/**
 * The JSON Schemas of the rota routes' bodies (draft 2020-12), checked like
 * the rules routes' (schemas.ts): the first bad field is named in a 400
 * M_AS_BAD_VALUE. Every edit may carry the `version` the client read; a rota
 * changed since is refused with 409 WEBCALL_ROTA_CONFLICT.
 */

const BASE = "https://webcall.invalid/schemas/bridge/provisioning/rotas/";
const VERSION = { type: "integer", minimum: 1, maximum: 2147483647 } as const;
/** A member as people write them: `@alice:example.org`, `carol@hello.com`, or `me`. */
const MEMBER = { type: "string", minLength: 1, maxLength: 512, pattern: "^\\S+$" } as const;
const TIME = { type: "integer", minimum: 0, maximum: 8640000000000000 } as const;
const POSITION = { type: "integer", minimum: 1, maximum: 100000 } as const;

const edit = (name: string, title: string, required: string[], properties: Record<string, unknown>) => ({
  $id: `${BASE}${name}.json`, title, type: "object", additionalProperties: false, required, properties: { ...properties, version: VERSION },
});

export const rotaSchemas = {
  create: {
    $id: `${BASE}create.json`, title: "POST /v1/rotas", type: "object", additionalProperties: false, required: ["roomId", "name"],
    properties: {
      roomId: { type: "string", minLength: 2, maxLength: 255, pattern: "^!" },
      /** The address's local part: 1-64 of a-z 0-9 . _ -, starting with a letter or digit. */
      name: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" },
    },
  },
  members: edit("members", "PUT /v1/rotas/{name}/members", ["members"], {
    /** The rotation order; null = the room's joined members in join order. */
    members: { type: ["array", "null"], minItems: 1, maxItems: MAX_MEMBERS, items: MEMBER },
  }),
  rotation: edit("rotation", "PUT /v1/rotas/{name}/rotation", ["every", "time"], {
    every: { enum: ["week", "day"] },
    /** Weekly only. */
    weekday: { enum: [...WEEKDAYS] },
    time: { type: "string", pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$" },
    /** An IANA zone; absent = the rota's. */
    zone: { type: "string", minLength: 1, maxLength: 64 },
  }),
  cover: edit("cover", "POST /v1/rotas/{name}/overrides", ["member", "until"], {
    member: MEMBER,
    /** ms since the epoch; absent = now */
    from: TIME,
    until: TIME,
  }),
  escalation: edit("escalation", "PUT /v1/rotas/{name}/escalation", ["mode"], {
    mode: { enum: ["sequence", "all"] },
    /** sequence only: how long each step rings */
    stepMs: { type: "integer", minimum: MIN_STEP_MS, maximum: MAX_STEP_MS },
    /** sequence only: after the first step, everyone left at once */
    thenAll: { type: "boolean" },
  }),
  addRule: edit("add-rule", "POST /v1/rotas/{name}/rules", ["rule"], { rule: { $ref: ruleSchema.$id }, position: POSITION }),
  moveRule: edit("move-rule", "POST /v1/rotas/{name}/rules/move", ["from", "to"], { from: POSITION, to: POSITION }),
  defaultAction: edit("default", "PUT /v1/rotas/{name}/rules/default", ["defaultAction"], {
    /** null = follow the bridge's default */
    defaultAction: { enum: ["ring", "refuse", "ring_verified", null] },
  }),
} as const;

interface Versioned { version?: number }
export interface CreateRotaBody { roomId: string; name: string }
export interface MembersBody extends Versioned { members: string[] | null }
export interface RotationBody extends Versioned { every: "week" | "day"; weekday?: Weekday; time: string; zone?: string }
export interface CoverBody extends Versioned { member: string; from?: number; until: number }
export interface EscalationBody extends Versioned { mode: "sequence" | "all"; stepMs?: number; thenAll?: boolean }
export interface AddRotaRuleBody extends Versioned { rule: Rule; position?: number }
export interface MoveRotaRuleBody extends Versioned { from: number; to: number }
export interface DefaultActionBody extends Versioned { defaultAction: DefaultAction | null }

const validators = {
  create: compile<CreateRotaBody>(rotaSchemas.create),
  members: compile<MembersBody>(rotaSchemas.members),
  rotation: compile<RotationBody>(rotaSchemas.rotation),
  cover: compile<CoverBody>(rotaSchemas.cover),
  escalation: compile<EscalationBody>(rotaSchemas.escalation),
  addRule: compile<AddRotaRuleBody>(rotaSchemas.addRule),
  moveRule: compile<MoveRotaRuleBody>(rotaSchemas.moveRule),
  defaultAction: compile<DefaultActionBody>(rotaSchemas.defaultAction),
};

type Bodies = { [K in keyof typeof validators]: (typeof validators)[K] extends ValidateFunction<infer T> ? T : never };

/** The body, typed, or a 400 M_AS_BAD_VALUE naming the first bad field. */
export function validateRotaBody<K extends keyof typeof validators>(kind: K, body: unknown): Bodies[K] {
  return checkBody(validators[kind] as ValidateFunction<Bodies[K]>, body);
}
