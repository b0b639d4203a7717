import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import yaml from "js-yaml";
import { AppServiceRegistration } from "matrix-appservice-bridge";
import { VirtualUsers } from "../ids/virtualUsers";
import { ConfigError, describeValue } from "./load";
import { Config } from "./schema";

/** The registration's `id`: how the homeserver names this appservice. */
export const REGISTRATION_ID = "webcall";

/** What the homeserver and the bridge share: the registration file's fields. */
export interface Registration {
  id: string;
  as_token: string;
  hs_token: string;
  sender_localpart: string;
  url: string | null;
  rate_limited?: boolean;
  namespaces?: { users?: { regex: string; exclusive: boolean }[] };
  [field: string]: unknown;
}

/** `^@webcall_.*:example\.org$`: every virtual user (one per WebCall address). */
export function virtualUserRegex(config: Config): string {
  return `^${new VirtualUsers(config.bridge.userPrefix, config.homeserver.domain).namespaceRegex}$`;
}

/** `^@webcall:example\.org$`: the bridge bot. */
export function botUserRegex(config: Config): string {
  return `^@${escapeRegex(config.bridge.botLocalpart)}:${escapeRegex(config.homeserver.domain)}$`;
}

/**
 * Fills in a registration for this config: fresh tokens, the bot as
 * sender, exclusive namespaces for the virtual users and the bot, no rate
 * limit (the bridge sends on behalf of many users).
 */
export function fillRegistration(reg: AppServiceRegistration, config: Config, url: string): AppServiceRegistration {
  reg.setAppServiceUrl(url);
  reg.setId(REGISTRATION_ID);
  reg.setHomeserverToken(AppServiceRegistration.generateToken());
  reg.setAppServiceToken(AppServiceRegistration.generateToken());
  reg.setSenderLocalpart(config.bridge.botLocalpart);
  reg.setRateLimited(false);
  reg.addRegexPattern("users", virtualUserRegex(config), true);
  reg.addRegexPattern("users", botUserRegex(config), true);
  return reg;
}

/** Writes a new registration for `config` to `path` (readable by its owner only: it holds the tokens). */
export function writeRegistration(config: Config, url: string, path: string): Registration {
  const reg = fillRegistration(new AppServiceRegistration(url), config, url);
  return saveRegistration(reg, path);
}

/** Writes a registration as YAML, readable by its owner only (it holds the tokens). */
export function saveRegistration(reg: AppServiceRegistration, path: string): Registration {
  const output = reg.getOutput() as Registration;
  // The same YAML AppServiceRegistration.outputAsYaml writes, so the Cli's own
  // write afterwards changes nothing but cannot widen the file's mode.
  writeFileSync(path, yaml.dump(output), { mode: 0o600 });
  chmodSync(path, 0o600);
  return output;
}

/**
 * Reads a registration file and checks that it is one this config can run
 * with; a ConfigError (naming the file) otherwise.
 */
export function readRegistration(path: string, config: Config): Registration {
  let data: unknown;
  try {
    data = yaml.load(readFileSync(path, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new ConfigError(path, ["no such file; generate the registration with -r -u URL -c CONFIG -f " + path]);
    }
    const reason = err instanceof yaml.YAMLException ? `not valid YAML: ${err.reason}` : (err as Error).message;
    throw new ConfigError(path, [`cannot read the registration file: ${reason}`]);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ConfigError(path, [`must be a mapping of keys (got ${describeValue(data)})`]);
  }
  const reg = data as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of ["id", "as_token", "hs_token", "sender_localpart"]) {
    if (typeof reg[key] !== "string" || reg[key] === "") {
      problems.push(`${key} must be a non-empty string (got ${describeValue(reg[key])})`);
    }
  }
  if (reg.url !== undefined && reg.url !== null && typeof reg.url !== "string") {
    problems.push(`url must be a string (got ${describeValue(reg.url)})`);
  }
  if (typeof reg.sender_localpart === "string" && reg.sender_localpart !== config.bridge.botLocalpart) {
    problems.push(
      `sender_localpart is "${reg.sender_localpart}" but the config's bridge.botLocalpart is ` +
        `"${config.bridge.botLocalpart}"; regenerate the registration with -r`,
    );
  }
  if (problems.length > 0) throw new ConfigError(path, problems);
  return { ...reg, url: typeof reg.url === "string" ? reg.url : null } as Registration;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
