import type { Response } from "express";
import type { Methods, ProvisioningApi, ProvisioningRequest } from "matrix-appservice-bridge";
import { tryParseAddress } from "../ids/address";
import { MatrixUserId, serverOfUser, tryParseMatrixUserId } from "../ids/matrix";
import { RulesService } from "../rules/RulesService";
import { RuleEdit } from "../model/rules";
import { badValue, forbidden } from "./errors";
import { validateBody } from "./schemas";

/**
 * The rules routes. Every one acts on the session's own user (`req.userId`,
 * set by the library from the session token) and nobody else: no route takes
 * a user id, and the library refuses a `userId` in the body.
 *
 *   GET    /v1/rules         → UserRules
 *   PUT    /v1/rules         {rules, defaultAction, timeZone, notifyRefused, version} → UserRules (409 if version is stale)
 *   POST   /v1/rules         {rule, position?} → UserRules
 *   POST   /v1/rules/move    {from, to} → UserRules
 *   DELETE /v1/rules/:n      → UserRules
 *   PUT    /v1/settings      {defaultAction?, timeZone?, notifyRefused?} → UserRules
 *   POST   /v1/test          {caller, verified?, at?} → {decision}
 */

type Handler = (userId: MatrixUserId, req: ProvisioningRequest) => Promise<unknown>;

const RULE_NUMBER = /^[1-9][0-9]{0,5}$/;

/** The session's user, who must be one of ours: this bridge decides calls
 *  for its own homeserver's users only. */
export function ownUser(req: ProvisioningRequest, domain: string): MatrixUserId {
  const userId = tryParseMatrixUserId(req.userId);
  if (!userId || serverOfUser(userId) !== domain) throw forbidden(`this bridge manages rules and rotas of users on ${domain} only`);
  return userId;
}

export function addRulesRoutes(api: ProvisioningApi, rules: RulesService, domain: string): void {

  const route = (method: Methods, path: string, handler: Handler): void => {
    api.addRoute(method, path, async (req: ProvisioningRequest, res: Response) => {
      const body = await handler(ownUser(req, domain), req);
      res.status(200).json(body);
    });
  };

  route("get", "/v1/rules", (userId) => rules.get(userId));

  route("put", "/v1/rules", (userId, req) => {
    const { version, ...next } = validateBody("replaceRules", req.body);
    return rules.replace(userId, next, version);
  });

  route("post", "/v1/rules", (userId, req) => {
    const { rule, position } = validateBody("addRule", req.body);
    return rules.edit(userId, { kind: "add", rule, ...(position !== undefined ? { position } : {}) });
  });

  route("post", "/v1/rules/move", (userId, req) => {
    const { from, to } = validateBody("moveRule", req.body);
    return rules.edit(userId, { kind: "move", rule: from, to });
  });

  route("delete", "/v1/rules/:n", (userId, req) => {
    const n = String(req.params.n);
    if (!RULE_NUMBER.test(n)) throw badValue("path.n must be a rule number (1, 2, …)");
    return rules.edit(userId, { kind: "remove", rule: Number(n) });
  });

  route("put", "/v1/settings", (userId, req) => {
    const settings = validateBody("settings", req.body);
    // One save for all of them: a bad time zone leaves the default unchanged too.
    const edits: RuleEdit[] = [];
    if (settings.defaultAction !== undefined) edits.push({ kind: "default", action: settings.defaultAction });
    if (settings.timeZone !== undefined) edits.push({ kind: "timezone", timeZone: settings.timeZone });
    if (settings.notifyRefused !== undefined) edits.push({ kind: "notify_refused", on: settings.notifyRefused });
    return rules.edit(userId, edits);
  });

  route("post", "/v1/test", async (userId, req) => {
    const { caller, verified, at } = validateBody("testCall", req.body);
    const address = caller === null ? null : tryParseAddress(caller);
    if (address === undefined) throw badValue("body.caller must be an address like alice@example.org, or null for an anonymous caller");
    // The same decision a real call would get, and nothing rings.
    const decision = await rules.decide(userId, { caller: address, verified: verified ?? false, at: at ?? Date.now() });
    return { decision };
  });
}
