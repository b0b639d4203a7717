/** What went wrong reading a JSON request body, told apart by the `type`
 *  that express.json() (body-parser) puts on its errors. Each listener turns
 *  these into its own errcodes. */
export type BodyProblem = "too_large" | "bad_json" | "bad_encoding" | "unreadable";

const BY_TYPE: Record<string, BodyProblem> = {
  "entity.too.large": "too_large",
  "entity.parse.failed": "bad_json",
  "charset.unsupported": "bad_encoding",
  "encoding.unsupported": "bad_encoding",
  "request.aborted": "unreadable",
  "request.size.invalid": "unreadable",
  "stream.encoding.set": "unreadable",
};

export function bodyProblemOf(error: unknown): BodyProblem | undefined {
  const type = (error as { type?: unknown } | null)?.type;
  return typeof type === "string" ? BY_TYPE[type] : undefined;
}
