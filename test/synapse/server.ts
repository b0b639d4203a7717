/**
 * Real Synapse for the end-to-end tests: one process per server, its own
 * folder, config and SQLite database, on loopback ports. Appservices are
 * registered before it starts (Synapse reads them at start-up, as in
 * production); `restart()` stops and starts the same server on the same data.
 */
import { ChildProcess, spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import yaml from "js-yaml";
import { freePort } from "../support/ports";
import type { AppserviceRegistrationLike } from "../homeserver/types";
import { logConfig, synapseConfig } from "./config";
import { synapsePython } from "./install";
import { EventObserver } from "./observer";

export interface SynapseOptions {
  serverName: string;
  appservices: AppserviceRegistrationLike[];
  /** Top-level homeserver.yaml keys replacing the test defaults. */
  config?: Record<string, unknown>;
}

export interface SynapseUser {
  userId: string;
  accessToken: string;
  deviceId: string;
}

export class SynapseServer {
  private child?: ChildProcess;
  private admin?: SynapseUser;

  private constructor(
    readonly serverName: string,
    readonly dir: string,
    readonly clientPort: number,
    readonly openIdPort: number,
    private readonly python: string,
    private readonly sharedSecret: string,
    readonly observer: EventObserver,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  /** The running Synapse process's id (the bench reads its CPU time from /proc). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The listener that serves only `/_matrix/federation/v1/openid/userinfo`. */
  get openIdUrl(): string {
    return `http://127.0.0.1:${this.openIdPort}`;
  }

  static async start(options: SynapseOptions): Promise<SynapseServer> {
    // freePort() cannot reserve a port: another worker may take it before
    // Synapse binds, so a start that loses that race is tried on new ports.
    for (let attempt = 1; ; attempt++) {
      const server = await SynapseServer.prepare(options);
      try {
        await server.spawn();
        server.admin = await server.register("hsadmin", { admin: true });
        return server;
      } catch (err) {
        await server.stop();
        if (attempt >= 3 || !/Address already in use/.test(String(err))) throw err;
      }
    }
  }

  /** A folder with homeserver.yaml, the registrations and a signing key, for a server not yet started. */
  private static async prepare(options: SynapseOptions): Promise<SynapseServer> {
    const python = synapsePython();
    const dir = mkdtempSync(path.join(tmpdir(), "webcall-synapse-"));
    const observer = await EventObserver.start();
    const registrations = [...options.appservices, observer.registration(options.serverName)];
    const registrationFiles = registrations.map((reg, i) => {
      const file = path.join(dir, `appservice-${i}.yaml`);
      writeFileSync(file, yaml.dump(reg));
      return file;
    });
    const sharedSecret = randomBytes(16).toString("hex");
    const server = new SynapseServer(options.serverName, dir, await freePort(), await freePort(), python, sharedSecret, observer);
    const config = synapseConfig({ dir, serverName: options.serverName, clientPort: server.clientPort, openIdPort: server.openIdPort, registrationFiles, sharedSecret, overrides: options.config });
    writeFileSync(path.join(dir, "homeserver.yaml"), yaml.dump(config));
    writeFileSync(path.join(dir, "log.yaml"), yaml.dump(logConfig(dir)));
    await server.runOnce(["--generate-keys"]);
    return server;
  }

  /** Synapse's own log, for a failing test's message. */
  logTail(lines = 30): string {
    try {
      return readFileSync(path.join(this.dir, "homeserver.log"), "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  private args(extra: string[] = []): string[] {
    return ["-m", "synapse.app.homeserver", "-c", path.join(this.dir, "homeserver.yaml"), ...extra];
  }

  private runOnce(extra: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.python, this.args(extra), { cwd: this.dir, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr!.on("data", (d) => { stderr += String(d); });
      child.on("exit", (code) => code === 0 ? resolve() : reject(new Error(`synapse ${extra.join(" ")} exited ${code}: ${stderr}`)));
    });
  }

  /** Starts the process and waits until the client API answers. */
  private async spawn(): Promise<void> {
    const child = spawn(this.python, this.args(), { cwd: this.dir, stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    let stderr = "";
    child.stderr!.on("data", (d) => { stderr = (stderr + String(d)).slice(-4000); });
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Synapse exited (${child.exitCode}): ${stderr}\n${this.logTail()}`);
      const up = await fetch(`${this.url}/_matrix/client/versions`).then((r) => r.ok, () => false);
      if (up) return;
      if (Date.now() > deadline) throw new Error(`Synapse did not answer within 60 s\n${this.logTail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the process (SIGTERM, as an operator's restart does) and waits for it to exit. */
  async kill(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    // A process ended by a signal keeps exitCode null: it has exited all the same.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill(signal);
    });
  }

  /** Stops and starts Synapse on the same ports, data and registrations. */
  async restart(): Promise<void> {
    await this.kill();
    await this.spawn();
  }

  async stop(): Promise<void> {
    await this.kill();
    await this.observer.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Registers a user with the shared secret (Synapse's admin registration API). */
  async register(localpart: string, opts: { password?: string; admin?: boolean; displayName?: string } = {}): Promise<SynapseUser> {
    const endpoint = `${this.url}/_synapse/admin/v1/register`;
    const { nonce } = await (await fetch(endpoint)).json() as { nonce: string };
    const password = opts.password ?? "password";
    const admin = opts.admin === true;
    const mac = createHmac("sha1", this.sharedSecret).update(`${nonce}\0${localpart}\0${password}\0${admin ? "admin" : "notadmin"}`).digest("hex");
    const res = await fetch(endpoint, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ nonce, username: localpart, password, admin, mac, ...(opts.displayName ? { displayname: opts.displayName } : {}) }),
    });
    const body = await res.json() as { user_id: string; access_token: string; device_id: string; error?: string };
    if (!res.ok) throw new Error(`registering ${localpart} on Synapse: ${res.status} ${JSON.stringify(body)}`);
    return { userId: body.user_id, accessToken: body.access_token, deviceId: body.device_id };
  }

  /** Logs in another device of a user created with the default password. */
  async login(userId: string, password = "password"): Promise<{ accessToken: string; deviceId: string }> {
    const body = await this.request("POST", "/_matrix/client/v3/login", undefined, {
      type: "m.login.password", identifier: { type: "m.id.user", user: userId }, password,
    }) as { access_token: string; device_id: string };
    return { accessToken: body.access_token, deviceId: body.device_id };
  }

  /** A client-server or admin API request, as the admin user unless a token is given. */
  async request(method: string, apiPath: string, token: string | undefined = this.admin?.accessToken, body?: object): Promise<unknown> {
    const res = await fetch(`${this.url}${apiPath}`, {
      method, headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`Synapse ${method} ${apiPath}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }
}
