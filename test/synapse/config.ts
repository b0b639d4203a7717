/**
 * The homeserver.yaml the tests run Synapse with: loopback only, SQLite, no
 * federation listener, a shared registration secret for creating users, and
 * rate limits raised for the test users (the bridge's own registration is
 * `rate_limited: false`, as an operator's would be, and needs nothing else).
 */
import path from "node:path";

export interface SynapseConfigOptions {
  dir: string;
  serverName: string;
  clientPort: number;
  /** A second listener serving only the `openid` resource (as federation-facing listeners do). */
  openIdPort: number;
  registrationFiles: string[];
  sharedSecret: string;
  /** Top-level keys that replace the defaults (e.g. encryption_enabled_by_default_for_room_type). */
  overrides?: Record<string, unknown>;
}

const generous = { per_second: 10_000, burst_count: 10_000 };

export function synapseConfig(o: SynapseConfigOptions): Record<string, unknown> {
  return {
    server_name: o.serverName,
    pid_file: path.join(o.dir, "homeserver.pid"),
    listeners: [
      { port: o.clientPort, bind_addresses: ["127.0.0.1"], type: "http", tls: false, x_forwarded: false, resources: [{ names: ["client"], compress: false }] },
      { port: o.openIdPort, bind_addresses: ["127.0.0.1"], type: "http", tls: false, x_forwarded: false, resources: [{ names: ["openid"], compress: false }] },
    ],
    database: { name: "sqlite3", args: { database: path.join(o.dir, "homeserver.db") } },
    log_config: path.join(o.dir, "log.yaml"),
    media_store_path: path.join(o.dir, "media"),
    signing_key_path: path.join(o.dir, "signing.key"),
    registration_shared_secret: o.sharedSecret,
    report_stats: false,
    trusted_key_servers: [],
    suppress_key_server_warning: true,
    federation_domain_whitelist: [],
    presence: { enabled: false },
    app_service_config_files: o.registrationFiles,
    rc_message: generous,
    rc_registration: generous,
    rc_login: { address: generous, account: generous, failed_attempts: generous },
    rc_joins: { local: generous, remote: generous },
    rc_joins_per_room: generous,
    rc_invites: { per_room: generous, per_user: generous, per_issuer: generous },
    rc_room_creation: generous,
    rc_3pid_validation: generous,
    ...o.overrides,
  };
}

export function logConfig(dir: string): Record<string, unknown> {
  return {
    version: 1,
    formatters: { precise: { format: "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s" } },
    handlers: { file: { class: "logging.FileHandler", formatter: "precise", filename: path.join(dir, "homeserver.log") } },
    loggers: { "synapse.storage.SQL": { level: "WARNING" }, "synapse.access": { level: process.env.WEBCALL_TEST_SYNAPSE_LOG ?? "WARNING" } },
    root: { level: process.env.WEBCALL_TEST_SYNAPSE_LOG ?? "INFO", handlers: ["file"] },
    disable_existing_loggers: false,
  };
}
