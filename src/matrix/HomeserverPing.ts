import { logger } from "../log";
import { MatrixRequestError } from "./HomeserverClient";

const log = logger("homeserver.ping");

/** The last start-up ping, as GET /health reports it. */
export type PingOutcome =
  | { ping: "pending" }
  | { ping: "ok"; rttMs: number; at: string }
  | { ping: "failed"; errcode: string; error: string; at: string };

export interface PingTarget {
  /** POST /_matrix/client/v1/appservice/{id}/ping; resolves to the homeserver's round trip in ms. */
  pingAppservice(appserviceId: string, transactionId: string): Promise<number>;
}

export interface PingOptions {
  appserviceId: string;
  /** The registration's url: where the homeserver pushes to (for the advice in the log). */
  bridgeUrl: string | null;
  homeserverUrl: string;
  /** Waits before each retry while the homeserver itself cannot be reached. */
  retryDelaysMs?: readonly number[];
}

/**
 * Pings the homeserver's appservice ping endpoint once the appservice
 * listener listens. Besides proving the homeserver can push to the bridge,
 * a successful ping makes Synapse retry pending pushes at once: after the
 * bridge was unreachable Synapse backs off for up to ~8.5 minutes
 * (appservice/scheduler.py `_Recoverer`), and only the ping's `force_retry`
 * cuts that short. Retried with backoff while the homeserver is down; a
 * refusal is logged with what to fix, not retried.
 */
export class HomeserverPing {
  private outcome: PingOutcome = { ping: "pending" };
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly target: PingTarget, private readonly options: PingOptions) {}

  get last(): PingOutcome {
    return this.outcome;
  }

  /** Starts pinging in the background; start-up does not wait for the homeserver. */
  start(): void {
    void this.attempt(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async attempt(retry: number): Promise<void> {
    const delays = this.options.retryDelaysMs ?? [1000, 2000, 4000, 8000, 16000];
    try {
      const rttMs = await this.target.pingAppservice(this.options.appserviceId, `webcall-startup-${Date.now()}`);
      this.outcome = { ping: "ok", rttMs, at: new Date().toISOString() };
      log.info("the homeserver reached the bridge (appservice ping)", { rttMs });
    } catch (err) {
      const { errcode, error, retryable } = this.explain(err as Error);
      this.outcome = { ping: "failed", errcode, error, at: new Date().toISOString() };
      const delay = delays[retry];
      if (this.stopped) return;
      if (retryable && delay !== undefined) {
        log.warn("appservice ping failed; retrying", { errcode, error, retryInMs: delay });
        this.timer = setTimeout(() => void this.attempt(retry + 1), delay);
        this.timer.unref();
      } else {
        log.error("appservice ping failed", { errcode, error });
      }
    }
  }

  /** The homeserver's answer in an operator's words, and whether a retry may help. */
  private explain(err: Error): { errcode: string; error: string; retryable: boolean } {
    const at = this.options.bridgeUrl ?? "the registration's url";
    if (!(err instanceof MatrixRequestError)) {
      return { errcode: "M_CONNECTION_FAILED", retryable: true,
        error: `the homeserver at ${this.options.homeserverUrl} is not reachable (${err.message})` };
    }
    const { errcode } = err;
    switch (errcode) {
      case "M_URL_NOT_SET":
        return { errcode, retryable: false, error: "the registration has no url, so the homeserver cannot push events to the bridge: set url in the registration file and restart the homeserver" };
      case "M_CONNECTION_FAILED":
      case "M_CONNECTION_TIMEOUT":
      case "M_BAD_STATUS":
        return { errcode, retryable: true, error: `the homeserver could not reach the bridge at ${at} (${err.message}): check the registration's url and that the appservice port is reachable from the homeserver` };
      case "M_FORBIDDEN":
      case "M_UNKNOWN_TOKEN":
        return { errcode, retryable: false, error: `the homeserver does not know appservice ${this.options.appserviceId} with this as_token (${err.message}): is the registration file listed in app_service_config_files, and the homeserver restarted since?` };
      case "M_UNRECOGNIZED":
        return { errcode, retryable: false, error: "the homeserver has no appservice ping (Matrix 1.7): after an outage its pushes may resume only after its own backoff" };
      default:
        return { errcode, retryable: err.status >= 500, error: err.message };
    }
  }
}
