import type { Response } from "express";
import { ApiError, ErrCode, IApiError } from "matrix-appservice-bridge";
import { BridgeError } from "../errors";
import { RuleError } from "../model/rules";
import { bodyProblemOf } from "../util/bodyProblems";

/**
 * Every error the provisioning API answers is `{errcode, error}` (plus
 * `retry_after_ms` on 429), the format of matrix-appservice-bridge's
 * ApiError, so front ends written for other bridges' provisioning APIs read
 * ours the same way. The library's own codes are kept where it has one; the
 * rest are Matrix codes, and the rules conflict is ours:
 *
 *   400 M_AS_BAD_VALUE          a body, path or rule is invalid; the message names the field
 *   400 M_NOT_JSON              the body is not JSON
 *   401 M_AS_BAD_TOKEN          missing, unknown or expired session token (library)
 *   401 M_AS_BAD_OPENID         the homeserver did not confirm the OpenID token
 *                               (the library answers 500; it is the client's token that failed)
 *   403 M_FORBIDDEN             another homeserver's user or matrixServer; a userId in the body
 *   404 M_UNRECOGNIZED          no such endpoint
 *   409 WEBCALL_RULES_CONFLICT  the rules changed since the client read them
 *   413 M_TOO_LARGE             body over the limit
 *   415 M_NOT_JSON              Content-Type is not application/json
 *   429 M_AS_LIMIT_EXCEEDED     rate limited (library), with retry_after_ms
 *   500 M_AS_UNKNOWN            anything else; details go to the log only, never a stack
 */

export class ProvisioningError extends Error implements IApiError {
  constructor(readonly statusCode: number, readonly errcode: string, readonly error: string) {
    super(error);
    this.name = "ProvisioningError";
  }

  apply(response: Response): void {
    response.status(this.statusCode).json({ errcode: this.errcode, error: this.error });
  }
}

export const badValue = (message: string): ProvisioningError => new ProvisioningError(400, ErrCode.BadValue, message);
export const forbidden = (message: string): ProvisioningError => new ProvisioningError(403, "M_FORBIDDEN", message);
export const unrecognized = (): ProvisioningError => new ProvisioningError(404, "M_UNRECOGNIZED", "no such endpoint");

/** The answer for a thrown value, or undefined when it is not meant for the
 *  client (a bug or an outage: answer 500 and log it). */
export function clientError(error: unknown): IApiError | undefined {
  if (error instanceof ProvisioningError) return error;
  if (error instanceof RuleError) return badValue(error.message);
  if (error instanceof BridgeError) return error.status < 500 ? new ProvisioningError(error.status, error.errcode, error.message) : undefined;
  if (error instanceof ApiError) {
    switch (error.errcode) {
      case ErrCode.BadOpenID:
        // Also answered when the homeserver cannot be reached; the library does not tell the two apart.
        return new ProvisioningError(401, error.errcode, `the homeserver did not confirm the OpenID token (${error.error}); get a new one and try again`);
      case ErrCode.DisabledFeature:
        // The library's answer to a userId in the body: it acts for integration managers only.
        return forbidden("a session acts only for its own user; leave userId out of the body");
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
    case "too_large": return new ProvisioningError(413, "M_TOO_LARGE", "the request body is too large");
    case "bad_json": return new ProvisioningError(400, "M_NOT_JSON", "the request body is not valid JSON");
    case "bad_encoding": return new ProvisioningError(415, "M_NOT_JSON", "the body must be UTF-8 JSON without content encoding");
    case "unreadable": return badValue("the request body could not be read");
    default: return undefined;
  }
}

export const INTERNAL = new ProvisioningError(500, ErrCode.Unknown, "internal error");
