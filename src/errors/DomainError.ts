import { CATALOGUE, Problem } from "./catalogue";

/**
 * A failure meant for the other side of a connection: which problem of the
 * catalogue it is (and so its errcode) and a human message. It has no HTTP
 * status: the listener that answers it looks that up at its boundary
 * (httpAnswer.ts). Nothing else about the failure (no stack, no cause) ever
 * leaves the process.
 */
export class DomainError extends Error {
  readonly errcode: string;

  constructor(
    readonly problem: Problem,
    message: string = CATALOGUE[problem].message,
    /** When the client may try again, in seconds (a Retry-After at an HTTP boundary). */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = "DomainError";
    this.errcode = CATALOGUE[problem].errcode;
  }

  toJSON(): { errcode: string; error: string } {
    return { errcode: this.errcode, error: this.message };
  }
}
