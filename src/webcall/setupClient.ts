import { NodeKeys } from "../signing/NodeKeys";
import { SIGNATURE_HEADER } from "../signing/requestSignature";
import { OutboundError, OutboundHttp } from "../net/outboundHttp";
import { SetupRequest, SetupResponse } from "../protocol/types";
import { checkResponse } from "../protocol/validate";

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 2000;

export interface SetupPost {
  endpoint: string;
  /** The domain of the node being asked (the signature's destination). */
  destination: string;
  request: SetupRequest;
  /** ms since the epoch */
  deadline: number;
}

/**
 * POSTs a call setup to another node, signed by this node, retrying 5xx,
 * 429, timeouts and network errors until the deadline. Retries carry the
 * same body, so the same sessionId and token never ring twice, but a fresh
 * signature: the receiver refuses a signature it has seen before.
 */
export async function postSetup(http: OutboundHttp, keys: NodeKeys, post: SetupPost, now: () => number = Date.now): Promise<SetupResponse> {
  let wait = FIRST_RETRY_MS;
  for (;;) {
    try {
      const signature = keys.signatureHeader("POST", post.endpoint, post.destination, post.request);
      const { body } = await http.postJson(post.endpoint, post.request, { [SIGNATURE_HEADER]: signature });
      const [ok, problem] = checkResponse("setup-response", body);
      if (!ok) throw new Error(`the node's answer does not match the protocol: ${problem}`);
      return body as SetupResponse;
    } catch (err) {
      const retryable = err instanceof OutboundError
        && (err.code === "timeout" || err.code === "network" || (err.code === "http_status" && (err.status === 429 || (err.status ?? 0) >= 500)));
      const pause = Math.max(wait, err instanceof OutboundError ? err.retryAfterMs ?? 0 : 0);
      if (!retryable || now() + pause >= post.deadline) throw err;
      await new Promise((r) => setTimeout(r, pause));
      wait = Math.min(wait * 2, MAX_RETRY_MS);
    }
  }
}
