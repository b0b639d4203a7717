import { ruleProblems } from "./schema";
import { DEFAULT_ACTIONS, Rule, RuleEdit, RuleError, UserRules } from "../model/rules";
import { normalTimeZone } from "./zone";

/**
 * Applying one edit to a user's rules. Pure: the caller saves the result
 * (bumping `version`, conditional on the old one), so a refused edit changes
 * nothing and two concurrent edits cannot lose one another.
 */

export interface EditLimits {
  maxRules: number;
}

function countRules(n: number): string {
  return n === 0 ? "you have no rules" : n === 1 ? "you have 1 rule" : `you have ${n} rules`;
}

function checkRuleNumber(n: number, count: number, part: string): void {
  if (!Number.isInteger(n) || n < 1 || n > count) {
    throw new RuleError(`There is no rule ${n}: ${countRules(count)}.`, part);
  }
}

function add(rules: readonly Rule[], rule: Rule, position: number | undefined, limits: EditLimits): Rule[] {
  if (rules.length >= limits.maxRules) {
    throw new RuleError(`You already have ${rules.length} rules, the most allowed. Remove one first.`, "rule");
  }
  const problem = ruleProblems(rule);
  if (problem) throw new RuleError(`That rule can't be added: ${problem}.`, "rule");
  const at = position ?? rules.length + 1;
  if (!Number.isInteger(at) || at < 1 || at > rules.length + 1) {
    throw new RuleError(
      `A new rule can't go at position ${at}: ${countRules(rules.length)}, so it can go at 1 to ${rules.length + 1}.`, "position");
  }
  return [...rules.slice(0, at - 1), rule, ...rules.slice(at - 1)];
}

function move(rules: readonly Rule[], from: number, to: number): Rule[] {
  checkRuleNumber(from, rules.length, "rule");
  if (!Number.isInteger(to) || to < 1 || to > rules.length) {
    throw new RuleError(`Rule ${from} can't move to position ${to}: ${countRules(rules.length)}.`, "to");
  }
  const rest = rules.filter((_, i) => i !== from - 1);
  return [...rest.slice(0, to - 1), rules[from - 1] as Rule, ...rest.slice(to - 1)];
}

/** The rules after `edit`, with the same version. Throws RuleError, naming
 *  the part that is wrong, when the edit cannot be applied. */
export function applyEdit(current: UserRules, edit: RuleEdit, limits: EditLimits): UserRules {
  switch (edit.kind) {
    case "add":
      return { ...current, rules: add(current.rules, edit.rule, edit.position, limits) };
    case "remove":
      checkRuleNumber(edit.rule, current.rules.length, "rule");
      return { ...current, rules: current.rules.filter((_, i) => i !== edit.rule - 1) };
    case "move":
      return { ...current, rules: move(current.rules, edit.rule, edit.to) };
    case "default":
      if (edit.action !== null && !DEFAULT_ACTIONS.includes(edit.action)) {
        throw new RuleError(`The default must be ring, refuse, ring_verified or the bridge's, not ${JSON.stringify(edit.action)}.`, "action");
      }
      return { ...current, defaultAction: edit.action };
    case "timezone": {
      if (edit.timeZone === null) return { ...current, timeZone: null };
      const zone = typeof edit.timeZone === "string" ? normalTimeZone(edit.timeZone) : undefined;
      if (!zone) {
        throw new RuleError(`${JSON.stringify(edit.timeZone)} is not an IANA time zone; try one like Europe/London or America/New_York.`, "timeZone");
      }
      return { ...current, timeZone: zone };
    }
    case "notify_refused":
      if (typeof edit.on !== "boolean") throw new RuleError("Refused-call notices can only be on or off.", "on");
      return { ...current, notifyRefused: edit.on };
    default: {
      const unknown: never = edit;
      throw new RuleError(`There is no edit ${JSON.stringify((unknown as { kind?: unknown }).kind)}.`, "kind");
    }
  }
}
