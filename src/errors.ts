/** An error meant for the other side of a connection: an HTTP status, a
 *  machine-readable errcode and a human message. Nothing else about the
 *  failure (no stack, no cause) ever leaves the process. */
export class BridgeError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "BridgeError";
  }

  toJSON(): { errcode: string; error: string } {
    return { errcode: this.errcode, error: this.message };
  }
}
