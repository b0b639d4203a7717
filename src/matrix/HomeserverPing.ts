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
  /** The config file, named in the advice when the homeserver cannot be reached (default config.yaml). */
  configPath?: string;
  /** Waits before each retry while the homeserver itself cannot be reached. */
  retryDelaysMs?: readonly number[];
  /** After those, retry this often for as long as it takes; absent: give up after the last. */
  thenEveryMs?: number;
  /**
   * Called once, when the homeserver has answered that it reached the bridge
   * (or answered at all, when it has no ping endpoint): the bridge is running.
   */
  onReachable?: (outcome: PingOutcome) => void;
}

/**
 * Pings the homeserver's appservice ping endpoint once the appservice
 * listener listens. Besides proving the homeserver can push to the bridge,
 * a successful ping makes Synapse retry pending pushes at once: after the
 * bridge was unreachable Synapse backs off for up to ~8.5 minutes
 * (appservice/scheduler.py `_Recoverer`), and only the ping's `force_retry`
 * cuts that short. Retried with backoff while the homeserver is down (each
 * failure logged with what to check); a refusal is logged with what to fix,
 * not retried. `onReachable` tells the bridge when it may say it is running.
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
      if (!this.stopped) this.options.onReachable?.(this.outcome);
    } catch (err) {
      const { errcode, error, retryable } = this.explain(err as Error);
      this.outcome = { ping: "failed", errcode, error, at: new Date().toISOString() };
      const delay = delays[retry] ?? this.options.thenEveryMs;
      if (this.stopped) return;
      if (retryable && delay !== undefined) {
        // The sentence is the message: an operator reads it on a first start, in the JSON log line.
        log.warn(`${error}; retrying in ${formatDelay(delay)}`, { errcode, retryInMs: delay });
        this.timer = setTimeout(() => void this.attempt(retry + 1), delay);
        this.timer.unref();
      } else {
        log.error(`appservice ping failed: ${error}`, { errcode });
        // It answered, so it is up; it only cannot tell us that it reaches us.
        if (errcode === "M_UNRECOGNIZED") this.options.onReachable?.(this.outcome);
      }
    }
  }

  /** The homeserver's answer in an operator's words, and whether a retry may help. */
  private explain(err: Error): { errcode: string; error: string; retryable: boolean } {
    const at = this.options.bridgeUrl ?? "the registration's url";
    const notReachable = (reason: string) => ({ errcode: "M_CONNECTION_FAILED", retryable: true,
      error: `homeserver at ${this.options.homeserverUrl} not reachable (${reason}): check homeserver.url in ${this.options.configPath ?? "config.yaml"}` });
    if (!(err instanceof MatrixRequestError)) return notReachable(err.message);
    const { errcode } = err;
    switch (errcode) {
      case "M_TIMEOUT": // our own deadline: the homeserver did not answer
        return notReachable("no answer within homeserver.requestTimeoutMs");
      case "M_URL_NOT_SET":
        return { errcode, retryable: false, error: "the registration has no url, so the homeserver cannot push events to the bridge: set url in the registration file and restart the homeserver" };
      case "M_CONNECTION_FAILED":
      case "M_CONNECTION_TIMEOUT":
      case "M_BAD_STATUS":
        return { errcode, retryable: true, error: `the homeserver could not reach the bridge at ${at} (${err.message}): check the registration's url and that the appservice port is reachable from the homeserver` };
      case "M_FORBIDDEN":
      case "M_UNKNOWN_TOKEN":
        // Retried: the fix is on the homeserver (list the file, restart it), and the bridge can wait for that.
        return { errcode, retryable: true, error: `the homeserver does not know appservice ${this.options.appserviceId} with this as_token (${err.message}): is the registration file listed in app_service_config_files, and the homeserver restarted since?` };
      case "M_UNRECOGNIZED":
        return { errcode, retryable: false, error: "the homeserver has no appservice ping (Matrix 1.7): after an outage its pushes may resume only after its own backoff" };
      default:
        return { errcode, retryable: err.status >= 500, error: `the homeserver at ${this.options.homeserverUrl} answered ${err.status} ${errcode} (${err.message})` };
    }
  }
}

function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}
