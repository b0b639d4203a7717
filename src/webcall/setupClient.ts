import { OutboundError, OutboundHttp } from "./outboundHttp";
import { SetupRequest, SetupResponse } from "./protocol";
import { checkResponse } from "./validate";

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 2000;

/**
 * POSTs a call setup to another node, retrying 5xx, 429, timeouts and network
 * errors until `deadline` (ms since the epoch). Retries reuse the same
 * request, so the same sessionId and token never ring twice.
 */
export async function postSetup(http: OutboundHttp, endpoint: string, request: SetupRequest, deadline: number,
  now: () => number = Date.now): Promise<SetupResponse> {
  let wait = FIRST_RETRY_MS;
  for (;;) {
    try {
      const { body } = await http.postJson(endpoint, request);
      const [ok, problem] = checkResponse("setup-response", body);
      if (!ok) throw new Error(`the node's answer does not match the protocol: ${problem}`);
      return body as SetupResponse;
    } catch (err) {
      const retryable = err instanceof OutboundError
        && (err.code === "timeout" || err.code === "network" || (err.code === "http_status" && (err.status === 429 || (err.status ?? 0) >= 500)));
      const pause = Math.max(wait, err instanceof OutboundError ? err.retryAfterMs ?? 0 : 0);
      if (!retryable || now() + pause >= deadline) throw err;
      await new Promise((r) => setTimeout(r, pause));
      wait = Math.min(wait * 2, MAX_RETRY_MS);
    }
  }
}
