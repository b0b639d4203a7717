import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { runBridge } from "./bridge";
import { sampleLeftovers } from "./config/firstStart";
import { ConfigError, loadConfig } from "./config/load";
import { readRegistration, Registration, writeRegistration } from "./config/registration";
import { Config } from "./config/schema";
import { DomainError } from "./errors/DomainError";
import { logger, setLogLevel } from "./log";
import { DataDirError } from "./store/privateDir";

const log = logger("cli");

/** How long a stop on SIGTERM/SIGINT may take before the process gives up and exits 1. */
const STOP_TIMEOUT_MS = 15_000;

/** The file a registration is written to and read from without -f (the bridge library's default too). */
const DEFAULT_REGISTRATION = "registration.yaml";

/** The command line's options, as matrix-appservice-bridge's Cli names them, and --force. */
interface CliArgs {
  "generate-registration"?: boolean;
  force?: boolean;
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
  matrix-appservice-webcall -r -u URL -c config.yaml [-f registration.yaml] [--force]
      Write the appservice registration for the homeserver (new tokens;
      an existing file is replaced only with --force).
  matrix-appservice-webcall -c config.yaml [-f registration.yaml] [-p PORT]
      Run the bridge.

Options:
  -c, --config FILE               the config (see config.sample.yaml)
  -f, --file FILE                 the registration file (default registration.yaml)
  -r, --generate-registration     write the registration instead of running
  -u, --url URL                   where the homeserver reaches the appservice
      --force                     with -r: replace an existing registration file
  -p, --port PORT                 appservice port (default: the registration url's)
  -h, --help                      this help
`;

/**
 * The command line, as other matrix-appservice-bridge bridges have it:
 *   -r -u URL -c config.yaml [-f registration.yaml]   write a registration
 *   -c config.yaml [-f registration.yaml] [-p PORT]   run the bridge
 * Every config or usage problem ends the process with status 1 and a
 * readable message on stderr. The bridge library's Cli is not used: we check
 * the config, write and read the registration ourselves, and loading the
 * library prints a deprecation warning (DEP0060, from its matrix-bot-sdk).
 */
export function main(argv: string[] = process.argv.slice(2)): void {
  let failure = "bridge failed to start";
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
    const leftovers = sampleLeftovers(config);
    if (leftovers.length > 0) throw new ConfigError(configPath, leftovers);
    const registrationPath = args.file ?? DEFAULT_REGISTRATION;

    if (args["generate-registration"]) {
      failure = "could not write the registration";
      if (!args.url) throw new UsageError("missing --url [-u]: the URL the homeserver reaches this bridge at");
      if (!/^https?:\/\/[^/?#]/i.test(args.url)) throw new UsageError(`--url must be an http:// or https:// URL (got "${args.url}")`);
      if (args.port !== undefined) throw new UsageError("--port [-p] is not valid when writing a registration");
      if (existsSync(registrationPath) && !args.force) {
        throw new ConfigError(registrationPath, [
          "already exists, and writing it again makes new tokens: the homeserver would reject the bridge until it is " +
            "restarted with the new file. To keep it, start the bridge without -r; to replace it, add --force " +
            "(then restart the homeserver)",
        ]);
      }
      writeRegistration(config, args.url, registrationPath);
      // Said on stdout, so scripts that only want errors can keep stderr for them.
      process.stdout.write(
        `Wrote ${registrationPath} (fresh as_token and hs_token, mode 0600). Next: add ${resolve(registrationPath)} to ` +
          "app_service_config_files in the homeserver's homeserver.yaml, restart the homeserver, then start the bridge " +
          `with -c ${configPath} -f ${registrationPath}.\n`,
      );
      return;
    }
    if (args.force) throw new UsageError("--force is only valid with -r");

    const registration = readRegistration(registrationPath, config);
    const port = args.port ?? portOf(registration.url);
    if (port === undefined) {
      throw new UsageError(`no port: give --port [-p], or a registration url with a port (it is ${JSON.stringify(registration.url)})`);
    }
    start(config, registration, port, configPath);
  } catch (err) {
    fail(err, failure);
  }
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
        force: { type: "boolean" },
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
function start(config: Config, registration: Registration, port: number, configPath: string): void {
  // Started on the next microtask, so the signal handlers below are in place
  // before the bridge does anything (and a synchronous throw is a rejection).
  const running = Promise.resolve().then(() => runBridge(config, registration, port, { configPath }));
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
function fail(err: unknown, failure = "bridge failed to start"): never {
  if (err instanceof ConfigError || err instanceof DataDirError) {
    process.stderr.write(`${err.message}\n`);
  } else if (err instanceof UsageError) {
    process.stderr.write(`matrix-appservice-webcall: ${err.message}\nRun with --help for usage.\n`);
  } else if (err instanceof DomainError) {
    log.error(failure, { errcode: err.errcode, error: err.message });
  } else if (isSystemError(err)) {
    // EADDRINUSE, EACCES, ECONNREFUSED…: the message says it all.
    log.error(failure, { code: err.code, error: err.message });
  } else {
    log.error(failure, { error: errorText(err), stack: err instanceof Error ? err.stack : undefined });
  }
  process.exit(1);
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException & { code: string } {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string" && /^E[A-Z]+$/.test((err as NodeJS.ErrnoException).code!);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
