import { parseConfig } from "../../src/config/load";
import { startProvisioning, ProvisioningServer } from "../../src/provisioning";
import { RulesService } from "../../src/rules/RulesService";
import { openStore, Store } from "../../src/store";
import type { CreatedUser } from "../homeserver";
import { defaultKind, E2EHomeserver, startHomeserver } from "../e2e/homeserver";
import { pgliteEngine, TestEngine } from "../store/engines";

export const PREFIX = "/_matrix/provision";

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

/** A homeserver (real Synapse by default), a store, the rules service and a provisioning listener. */
export class ProvisioningFixture {
  private readonly servers: ProvisioningServer[] = [];

  private constructor(
    readonly hs: E2EHomeserver,
    readonly store: Store,
    readonly rules: RulesService,
    private readonly engine: TestEngine,
    public base: string,
  ) {}

  static async start(): Promise<ProvisioningFixture> {
    const hs = await startHomeserver({ kind: defaultKind(), serverName: "example.org", appservices: [] });
    const engine = pgliteEngine();
    const db = await engine.create();
    const store = await openStore(db.options);
    const rules = new RulesService(store, { maxRules: 5, defaultTimeZone: "UTC", bridgeDefault: "ring" });
    const fixture = new ProvisioningFixture(hs, store, rules, engine, "");
    fixture.base = await fixture.listen();
    return fixture;
  }

  /** Starts another listener on the same store and homeserver; its base URL. `homeserver` replaces the openIdUrl setting. */
  async listen(provisioning: Record<string, unknown> = {}, rules = this.rules, homeserver: { openIdUrl?: string } = { openIdUrl: this.hs.openIdUrl }): Promise<string> {
    const config = parseConfig(JSON.stringify({
      homeserver: { url: this.hs.url, domain: "example.org", ...homeserver },
      webcall: { publicUrl: "http://127.0.0.1:1/webcall" },
      provisioning: { enabled: true, bind: "127.0.0.1", port: 0, maxBodyBytes: 65536, rateLimit: { max: 100000 }, ...provisioning },
    }));
    const server = await startProvisioning(config, rules, this.store);
    this.servers.push(server);
    return `http://127.0.0.1:${server.port}${config.provisioning.prefix}`;
  }

  async stop(): Promise<void> {
    for (const server of this.servers) await server.close();
    await this.store.close();
    await this.hs.stop();
    await this.engine.dispose();
  }

  /** Asks the homeserver, as the user, for an OpenID token (what a widget host does). */
  async openIdToken(user: CreatedUser): Promise<string> {
    const res = await fetch(`${this.hs.url}/_matrix/client/v3/user/${encodeURIComponent(user.userId)}/openid/request_token`, {
      method: "POST",
      headers: { Authorization: `Bearer ${user.accessToken}`, "Content-Type": "application/json" },
      body: "{}",
    });
    const body = (await res.json()) as { access_token: string; matrix_server_name: string };
    expect(res.status).toBe(200);
    expect(body.matrix_server_name).toBe("example.org");
    return body.access_token;
  }

  /** A provisioning session for the user, the way a front end gets one. */
  async session(user: CreatedUser): Promise<string> {
    const reply = await this.call("POST", "/v1/exchange_openid", undefined, { openIdToken: await this.openIdToken(user), matrixServer: "example.org" });
    expect(reply.status).toBe(200);
    expect(reply.body.userId).toBe(user.userId);
    return reply.body.token as string;
  }

  /** A request to the API; a string body is sent as is, anything else as JSON. */
  async call(method: string, path: string, token?: string, body?: unknown, base = this.base, headers: Record<string, string> = {}): Promise<Reply> {
    const h: Record<string, string> = { ...headers };
    if (token !== undefined) h["Authorization"] = `Bearer ${token}`;
    if (body !== undefined && !("Content-Type" in h)) h["Content-Type"] = "application/json";
    const res = await fetch(`${base}${path}`, { method, headers: h, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text, so the assertion shows it
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }
}

/** Every error answer has exactly this shape: no stack, no extra detail. */
export function expectError(reply: Reply, status: number, errcode: string, message?: RegExp): void {
  expect({ status: reply.status, errcode: reply.body?.errcode }).toEqual({ status, errcode });
  expect(typeof reply.body.error).toBe("string");
  if (message) expect(reply.body.error).toMatch(message);
  expect(JSON.stringify(reply.body)).not.toMatch(/\bat .*\.[jt]s:\d+/);
}
