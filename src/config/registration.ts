import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import yaml from "js-yaml";
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
 * A new registration for this config: fresh tokens, the bot as sender,
 * exclusive namespaces for the virtual users and the bot, no rate limit
 * (the bridge sends on behalf of many users). The same fields, in the same
 * order, as matrix-appservice's AppServiceRegistration writes; built here
 * so that writing one does not load matrix-appservice-bridge, whose
 * matrix-bot-sdk prints a deprecation warning (DEP0060) when loaded.
 */
export function newRegistration(config: Config, url: string): Registration {
  return {
    id: REGISTRATION_ID,
    hs_token: newToken(),
    as_token: newToken(),
    url,
    sender_localpart: config.bridge.botLocalpart,
    namespaces: {
      users: [
        { exclusive: true, regex: virtualUserRegex(config) },
        { exclusive: true, regex: botUserRegex(config) },
      ],
    },
    rate_limited: false,
  };
}

/** 32 random bytes in hex, as AppServiceRegistration.generateToken makes them. */
function newToken(): string {
  return randomBytes(32).toString("hex");
}

/** Writes a new registration for `config` to `path` (readable by its owner only: it holds the tokens). */
export function writeRegistration(config: Config, url: string, path: string): Registration {
  const reg = newRegistration(config, url);
  writeFileSync(path, yaml.dump(reg), { mode: 0o600 });
  // An existing file keeps its mode through writeFileSync.
  chmodSync(path, 0o600);
  return reg;
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
  problems.push(...namespaceProblems(reg.namespaces, config));
  if (problems.length > 0) throw new ConfigError(path, problems);
  return { ...reg, url: typeof reg.url === "string" ? reg.url : null } as Registration;
}

/**
 * The registration must claim this config's bot and virtual users: one
 * written for another homeserver.domain (or bridge.userPrefix) makes the
 * homeserver push nothing for them and refuse every virtual user it sends as.
 */
function namespaceProblems(namespaces: unknown, config: Config): string[] {
  const users = (namespaces as { users?: unknown } | undefined)?.users;
  const regexes = Array.isArray(users)
    ? users.map((u) => (u as { regex?: unknown } | null)?.regex).filter((r): r is string => typeof r === "string")
    : [];
  const claims = (userId: string): boolean => regexes.some((r) => {
    try {
      return new RegExp(r).test(userId);
    } catch {
      return false;
    }
  });
  const { domain } = config.homeserver;
  const missing = [
    ...(claims(`@${config.bridge.botLocalpart}:${domain}`) ? [] : [`the bot @${config.bridge.botLocalpart}:${domain}`]),
    ...(claims(`@${config.bridge.userPrefix}alf=40employer.com:${domain}`) ? [] : [`the virtual users @${config.bridge.userPrefix}…:${domain}`]),
  ];
  if (missing.length === 0) return [];
  const got = regexes.length ? `it claims ${regexes.join(", ")}` : "it claims no users (namespaces.users)";
  return [
    `the user namespace is not for this config: ${got}, not ${missing.join(" and ")} ` +
      `(homeserver.domain is ${domain}); write one for this config with -r --force, ` +
      `list it in the homeserver's app_service_config_files and restart the homeserver`,
  ];
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
