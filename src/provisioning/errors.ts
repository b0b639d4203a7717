import type { Response } from "express";
import { ApiError, ErrCode, IApiError } from "matrix-appservice-bridge";
import { Problem } from "../errors/catalogue";
import { DomainError } from "../errors/DomainError";
import { httpAnswer } from "../errors/httpAnswer";
import { RuleError } from "../model/rules";
import { bodyProblemOf } from "../util/bodyProblems";

/**
 * Every error the provisioning API answers is `{errcode, error}` (plus
 * `retry_after_ms` on 429), the format of matrix-appservice-bridge's
 * ApiError, so front ends written for other bridges' provisioning APIs read
 * ours the same way. The library's own codes are kept where it has one; the
 * rest are Matrix codes, and the rules conflict is ours. Statuses are the
 * catalogue's (src/errors/catalogue.ts, the rows `on` "provisioning"):
 *
 *   400 M_AS_BAD_VALUE          a body, path or rule is invalid; the message names the field
 *   400 M_NOT_JSON              the body is not JSON
 *   401 M_AS_BAD_TOKEN          missing, unknown or expired session token (library)
 *   401 M_AS_BAD_OPENID         the homeserver did not confirm the OpenID token
 *                               (the library answers 500; it is the client's token that failed)
 *   403 M_FORBIDDEN             another homeserver's user or matrixServer; a userId in the body
 *   403 WEBCALL_ROTA_FORBIDDEN  a rota room's member whose power level is below its state_default
 *   404 M_UNRECOGNIZED          no such endpoint
 *   404 WEBCALL_ROTA_NOT_FOUND  no such rota, or the user is not joined to its room
 *   404 WEBCALL_ROTA_ROOM_UNKNOWN  a new rota's room the bot (or the user) is not in
 *   409 WEBCALL_RULES_CONFLICT  the rules changed since the client read them
 *   409 WEBCALL_ROTA_CONFLICT   the rota changed since the client read it
 *   413 M_TOO_LARGE             body over the limit
 *   415 M_NOT_JSON              Content-Type is not application/json
 *   429 M_AS_LIMIT_EXCEEDED     rate limited (library), with retry_after_ms
 *   500 M_AS_UNKNOWN            anything else; details go to the log only, never a stack
 */

/** The library's form of an answer (IApiError), made at this listener's boundary. */
export class ProvisioningError extends Error implements IApiError {
  constructor(readonly statusCode: number, readonly errcode: string, readonly error: string) {
    super(error);
    this.name = "ProvisioningError";
  }

  apply(response: Response): void {
    response.status(this.statusCode).json({ errcode: this.errcode, error: this.error });
  }
}

export const badValue = (message: string): DomainError => new DomainError("M_AS_BAD_VALUE", message);
export const forbidden = (message: string): DomainError => new DomainError("M_FORBIDDEN", message);
export const unrecognized = (): DomainError => new DomainError("M_UNRECOGNIZED", "no such endpoint");

/** A problem of the catalogue as this listener answers it (undefined: not one of its own). */
function answer(error: DomainError): ProvisioningError | undefined {
  const a = httpAnswer("provisioning", error);
  return a && new ProvisioningError(a.status, a.body.errcode, a.body.error);
}

const problem = (name: Problem, message?: string): ProvisioningError | undefined => answer(new DomainError(name, message));

/** The answer for a thrown value, or undefined when it is not meant for the
 *  client (a bug or an outage: answer 500 and log it). */
export function clientError(error: unknown): IApiError | undefined {
  if (error instanceof ProvisioningError) return error;
  if (error instanceof RuleError) return problem("M_AS_BAD_VALUE", error.message);
  if (error instanceof DomainError) return answer(error);
  if (error instanceof ApiError) {
    switch (error.errcode) {
      case ErrCode.BadOpenID:
        // Also answered when the homeserver cannot be reached; the library does not tell the two apart.
        return problem("M_AS_BAD_OPENID", `the homeserver did not confirm the OpenID token (${error.error}); get a new one and try again`);
      case ErrCode.DisabledFeature:
        // The library's answer to a userId in the body: it acts for integration managers only.
        return problem("M_FORBIDDEN", "a session acts only for its own user; leave userId out of the body");
      case ErrCode.Unknown:
        return undefined;
      default:
        return error;
    }
  }
  return bodyParserError(error);
}

/** express.json()'s failures. */
function bodyParserError(error: unknown): IApiError | undefined {
  switch (bodyProblemOf(error)) {
    case "too_large": return problem("M_TOO_LARGE", "the request body is too large");
    case "bad_json": return problem("M_NOT_JSON", "the request body is not valid JSON");
    case "bad_encoding": return problem("M_NOT_JSON_MEDIA_TYPE", "the body must be UTF-8 JSON without content encoding");
    case "unreadable": return problem("M_AS_BAD_VALUE", "the request body could not be read");
    default: return undefined;
  }
}

export const INTERNAL = problem("M_AS_UNKNOWN", "internal error") as ProvisioningError;
