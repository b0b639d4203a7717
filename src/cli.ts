import { parseArgs } from "node:util";
import { AppServiceRegistration, Cli } from "matrix-appservice-bridge";
import { runBridge } from "./bridge";
import { ConfigError, loadConfig } from "./config/load";
import { fillRegistration, readRegistration, Registration, saveRegistration } from "./config/registration";
import { Config } from "./config/schema";
import { BridgeError } from "./errors";
import { logger, setLogLevel } from "./log";

const log = logger("cli");

/** How long a stop on SIGTERM/SIGINT may take before the process gives up and exits 1. */
const STOP_TIMEOUT_MS = 15_000;

/** The options the bridge library's Cli understands (we parse them first, for clearer errors). */
interface CliArgs {
  "generate-registration"?: boolean;
  config?: string;
  url?: string;
  port?: number;
  file?: string;
  help?: boolean;
}

class UsageError extends Error {}

// Our own help: the Cli's names the node binary instead of this command
// when started through bin/ (it expects process.argv[0] to be "node").
const USAGE = `Usage:
  matrix-appservice-webcall -r -u URL -c config.yaml [-f registration.yaml]
      Write the appservice registration for the homeserver (new tokens).
  matrix-appservice-webcall -c config.yaml [-f registration.yaml] [-p PORT]
      Run the bridge.

Options:
  -c, --config FILE               the config (see config.sample.yaml)
  -f, --file FILE                 the registration file (default registration.yaml)
  -r, --generate-registration     write the registration instead of running
  -u, --url URL                   where the homeserver reaches the appservice
  -p, --port PORT                 appservice port (default: the registration url's)
  -h, --help                      this help
`;

/**
 * The command line, as other matrix-appservice-bridge bridges have it:
 *   -r -u URL -c config.yaml [-f registration.yaml]   write a registration
 *   -c config.yaml [-f registration.yaml] [-p PORT]   run the bridge
 * Every config or usage problem ends the process with status 1 and a
 * readable message on stderr. The bridge library's Cli does the rest (writes
 * the registration, reads it back, calls run); we check the config ourselves
 * first, since its checker (is-my-json-valid) prints raw JSON errors.
 */
export function main(argv: string[] = process.argv.slice(2)): void {
  try {
    const args = parseCliArgs(argv);
    if (args.help) {
      process.stdout.write(USAGE);
      return;
    }
    const configPath = args.config;
    if (!configPath) throw new UsageError("missing --config [-c] config.yaml");
    const config = loadConfig(configPath);
    setLogLevel(config.logging.level);
    const registrationPath = args.file ?? Cli.DEFAULT_FILENAME;

    if (args["generate-registration"]) {
      if (!args.url) throw new UsageError("missing --url [-u]: the URL the homeserver reaches this bridge at");
      if (!/^https?:\/\/[^/?#]/i.test(args.url)) throw new UsageError(`--url must be an http:// or https:// URL (got "${args.url}")`);
      if (args.port !== undefined) throw new UsageError("--port [-p] is not valid when writing a registration");
      const url = args.url;
      makeCli({
        generateRegistration(reg, done) {
          saveRegistration(fillRegistration(reg, config, url), registrationPath);
          done(reg);
        },
      }).run(args);
      return;
    }

    const registration = readRegistration(registrationPath, config);
    const port = args.port ?? portOf(registration.url);
    if (port === undefined) {
      throw new UsageError(`no port: give --port [-p], or a registration url with a port (it is ${JSON.stringify(registration.url)})`);
    }
    makeCli({ run: () => start(config, registration, port) }).run({ ...args, port });
  } catch (err) {
    fail(err);
  }
}

function makeCli(hooks: {
  run?: () => void;
  generateRegistration?: (reg: AppServiceRegistration, done: (reg: AppServiceRegistration) => void) => void;
} = {}): Cli<Record<string, unknown>> {
  return new Cli<Record<string, unknown>>({
    // A permissive schema: the Cli only reads the file; loadConfig has
    // already checked it (and the Cli's checker would print raw JSON errors).
    bridgeConfig: { schema: { type: "object" }, affectsRegistration: true, defaults: {} },
    registrationPath: Cli.DEFAULT_FILENAME,
    enableRegistration: true,
    enableLocalpart: false,
    run: hooks.run ?? (() => undefined),
    generateRegistration: hooks.generateRegistration ?? ((reg, done) => done(reg)),
  });
}

function parseCliArgs(argv: string[]): CliArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        "generate-registration": { type: "boolean", short: "r" },
        config: { type: "string", short: "c" },
        url: { type: "string", short: "u" },
        port: { type: "string", short: "p" },
        file: { type: "string", short: "f" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { port, ...rest } = values;
  if (port === undefined) return rest;
  const n = Number(port);
  if (!/^\d+$/.test(port) || n < 1 || n > 65535) throw new UsageError(`--port must be a port number from 1 to 65535 (got "${port}")`);
  return { ...rest, port: n };
}

/** The explicit port of the registration's url, if it names one. */
function portOf(url: string | null): number | undefined {
  if (!url) return undefined;
  try {
    const port = new URL(url).port;
    return port ? Number(port) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the bridge until SIGTERM or SIGINT, then stops it and exits 0. */
function start(config: Config, registration: Registration, port: number): void {
  // Started on the next microtask, so the signal handlers below are in place
  // before the bridge does anything (and a synchronous throw is a rejection).
  const running = Promise.resolve().then(() => runBridge(config, registration, port));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn("second signal while stopping; exiting now", { signal });
      process.exit(1);
    }
    stopping = true;
    log.info("stopping", { signal });
    setTimeout(() => {
      log.error("stopping took too long; exiting", { timeoutMs: STOP_TIMEOUT_MS });
      process.exit(1);
    }, STOP_TIMEOUT_MS).unref();
    running
      .then((bridge: { stop(): Promise<void> }) => bridge.stop())
      .then(
        () => {
          log.info("stopped");
          process.exit(0);
        },
        (err: unknown) => {
          log.error("stopping failed", { error: errorText(err) });
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  running.catch((err: unknown) => {
    if (!stopping) fail(err);
  });
}

/** Reports an error the operator can act on without a stack trace, anything else with one; exits 1. */
function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else if (err instanceof UsageError) {
    process.stderr.write(`matrix-appservice-webcall: ${err.message}\nRun with --help for usage.\n`);
  } else if (err instanceof BridgeError) {
    log.error("bridge failed to start", { errcode: err.errcode, error: err.message });
  } else if (isSystemError(err)) {
    // EADDRINUSE, EACCES, ECONNREFUSED…: the message says it all.
    log.error("bridge failed to start", { code: err.code, error: err.message });
  } else {
    log.error("bridge failed to start", { error: errorText(err), stack: err instanceof Error ? err.stack : undefined });
  }
  process.exit(1);
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException & { code: string } {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string" && /^E[A-Z]+$/.test((err as NodeJS.ErrnoException).code!);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
