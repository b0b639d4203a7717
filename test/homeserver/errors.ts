/** Matrix-style errors: every failure the server reports carries an errcode and an HTTP status. */
import type { Json } from "./types";

export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly extra: Json = {},
  ) {
    super(message);
  }

  body(): Json {
    return { errcode: this.errcode, error: this.message, ...this.extra };
  }
}

export const forbidden = (msg: string): MatrixError => new MatrixError(403, "M_FORBIDDEN", msg);
export const notFound = (msg: string): MatrixError => new MatrixError(404, "M_NOT_FOUND", msg);
export const badJson = (msg: string): MatrixError => new MatrixError(400, "M_BAD_JSON", msg);
export const missingParam = (msg: string): MatrixError => new MatrixError(400, "M_MISSING_PARAM", msg);
export const invalidParam = (msg: string): MatrixError => new MatrixError(400, "M_INVALID_PARAM", msg);
export const unrecognized = (): MatrixError => new MatrixError(404, "M_UNRECOGNIZED", "Unrecognized request");
