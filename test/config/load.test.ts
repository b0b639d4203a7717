import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Config } from "../../src/config/schema";
import { ConfigError, loadConfig, parseConfig } from "../../src/config/load";

const MINIMAL = `
homeserver:
  url: http://localhost:8008
  domain: example.org
webcall:
  publicUrl: https://webcall.example.org/webcall
`;

/** The message parseConfig throws for `text`, or "" when it accepts it. */
function problem(text: string): string {
  try {
    parseConfig(text, "config.yaml");
    return "";
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
}

describe("parseConfig", () => {
  it("fills in every default, nested sections included", () => {
    const config: Config = parseConfig(MINIMAL);
    expect(config).toEqual({
      homeserver: { url: "http://localhost:8008", domain: "example.org", requestTimeoutMs: 10000 },
      appservice: { bind: "127.0.0.1", maxBodyBytes: 10485760 },
      bridge: { userPrefix: "webcall_", botLocalpart: "webcall" },
      webcall: {
        bind: "0.0.0.0",
        port: 9040,
        publicUrl: "https://webcall.example.org/webcall",
        maxBodyBytes: 65536,
        requestTimeoutMs: 15000,
        pollTimeoutMs: 30000,
        rateLimit: { windowMs: 10000, max: 100 },
        trustProxy: false,
      },
      callPage: {
        enabled: true, iceServers: [], turnCredentialLifetimeMs: 3600000,
        rateLimit: { windowMs: 60000, max: 60, callsWindowMs: 600000, calls: 20 },
      },
      calls: { defaultLifetimeMs: 90000, maxLifetimeMs: 120000, neutralAnswerMs: 300, candidateBatchMs: 50 },
      rules: { defaultAction: "ring_verified", defaultTimeZone: "UTC", maxRulesPerUser: 1000, maxForwardHops: 5 },
      provisioning: {
        enabled: false, bind: "127.0.0.1", port: 9041, prefix: "/_matrix/provision", sessionLifetimeMs: 86400000, maxBodyBytes: 524288,
        rateLimit: { windowMs: 60000, max: 60 },
      },
      signing: {
        rotateAfterDays: 90, oldKeyRetentionDays: 7, publishForMs: 86400000, peerKeyCacheMs: 3600000, peerKeyCacheSize: 1000, replayCacheSize: 100000,
      },
      outbound: {
        allowHttp: false, allowPrivateNetworks: false, trustedHosts: [], nodes: {}, discoveryCacheMs: 300000,
        discoveryFailureCacheMs: 60000, discoveryCacheSize: 10000, timeoutMs: 5000, maxResponseBytes: 65536,
      },
      database: { dataDir: "./data", maxConnections: 10 },
      logging: { level: "info" },
    });
    // The derived type says the defaulted keys are present, and they are.
    const port: number = config.webcall.port;
    const max: number = config.webcall.rateLimit.max;
    expect([port, max]).toEqual([9040, 100]);
  });

  it("keeps given values and fills the rest of a partly given section", () => {
    const config = parseConfig(`${MINIMAL}  rateLimit: { max: 5 }\ncalls:\n  maxLifetimeMs: 60000\n  defaultLifetimeMs: 60000\n`);
    expect(config.webcall.rateLimit).toEqual({ windowMs: 10000, max: 5 });
    expect(config.calls.maxLifetimeMs).toBe(60000);
    expect(config.calls.candidateBatchMs).toBe(50);
  });

  it("treats an empty section or value (every entry commented out) as absent", () => {
    const config = parseConfig(`${MINIMAL}  port:\nappservice:\ncalls:\n  # maxLifetimeMs: 1\n`);
    expect(config.webcall.port).toBe(9040);
    expect(config.appservice).toEqual({ bind: "127.0.0.1", maxBodyBytes: 10485760 });
    expect(config.calls.maxLifetimeMs).toBe(120000);
  });

  it("does not share default objects between configs", () => {
    const a = parseConfig(MINIMAL);
    a.webcall.rateLimit.max = 1;
    expect(parseConfig(MINIMAL).webcall.rateLimit.max).toBe(100);
  });

  it("names an unknown key at the top level", () => {
    expect(problem(`${MINIMAL}colour: blue\n`)).toBe("config.yaml: unknown key colour");
  });

  it("names an unknown nested key and suggests the likely one", () => {
    expect(problem(MINIMAL.replace("  url:", "  urll:"))).toBe(
      [
        'config.yaml: homeserver.url is required (for example "http://localhost:8008")',
        "config.yaml: unknown key homeserver.urll (did you mean homeserver.url?)",
      ].join("\n"),
    );
    expect(problem(`${MINIMAL}  rateLimit: { maxx: 3, burst: 4 }\n`)).toBe(
      [
        "config.yaml: unknown key webcall.rateLimit.maxx (did you mean webcall.rateLimit.max?)",
        "config.yaml: unknown key webcall.rateLimit.burst",
      ].join("\n"),
    );
  });

  it("says what type a key must have and what it got", () => {
    expect(problem(`${MINIMAL}  port: abc\n`)).toBe('config.yaml: webcall.port must be a whole number (got "abc")');
    expect(problem(`${MINIMAL}  trustProxy: "yes"\n`)).toBe('config.yaml: webcall.trustProxy must be true or false (got "yes")');
    expect(problem(`${MINIMAL}  rateLimit: 3\n`)).toBe("config.yaml: webcall.rateLimit must be a section of keys (got 3)");
    expect(problem(`${MINIMAL}  port: 1.5\n`)).toBe("config.yaml: webcall.port must be a whole number (got 1.5)");
  });

  it("names each missing required key", () => {
    expect(problem("homeserver:\n  domain: example.org\n")).toBe(
      [
        'config.yaml: webcall is required',
        'config.yaml: homeserver.url is required (for example "http://localhost:8008")',
      ].join("\n"),
    );
    expect(problem("webcall: {}\nhomeserver: {url: http://hs, domain: x.org}\n")).toBe(
      'config.yaml: webcall.publicUrl is required (for example "https://webcall.example.org/webcall")',
    );
  });

  it("rejects a URL that is not one", () => {
    expect(problem(MINIMAL.replace("http://localhost:8008", '"not a url"'))).toBe('config.yaml: homeserver.url must be a URL (got "not a url")');
    expect(problem(MINIMAL.replace("https://webcall.example.org/webcall", "webcall.example.org:443"))).toBe(
      'config.yaml: webcall.publicUrl must be an http:// or https:// URL (got "webcall.example.org:443")',
    );
  });

  it("explains range, pattern, enum and empty-string violations", () => {
    expect(problem(`${MINIMAL}  port: 70000\n`)).toBe("config.yaml: webcall.port must be at most 65535 (got 70000)");
    expect(problem(`${MINIMAL}calls: { candidateBatchMs: -1 }\n`)).toBe("config.yaml: calls.candidateBatchMs must be at least 0 (got -1)");
    expect(problem(`${MINIMAL}bridge: { userPrefix: "Web_" }\n`)).toBe(
      'config.yaml: bridge.userPrefix may only contain the characters a-z 0-9 . _ = - / (got "Web_")',
    );
    expect(problem(`${MINIMAL}logging: { level: verbose }\n`)).toBe(
      'config.yaml: logging.level must be one of error, warn, info, debug (got "verbose")',
    );
    expect(problem(MINIMAL.replace("domain: example.org", 'domain: ""'))).toBe("config.yaml: homeserver.domain must not be empty");
    expect(problem(MINIMAL.replace("domain: example.org", "domain: https://example.org"))).toBe(
      'config.yaml: homeserver.domain must be the server name alone, such as example.org (got "https://example.org")',
    );
  });

  it("checks the default lifetime against the maximum", () => {
    expect(problem(`${MINIMAL}calls:\n  defaultLifetimeMs: 150000\n`)).toBe(
      "config.yaml: calls.defaultLifetimeMs (150000) must not be greater than calls.maxLifetimeMs (120000)",
    );
    expect(problem(`${MINIMAL}calls:\n  maxLifetimeMs: 60000\n`)).toBe(
      "config.yaml: calls.defaultLifetimeMs (90000) must not be greater than calls.maxLifetimeMs (60000)",
    );
  });

  it("reports every problem at once, one per line", () => {
    const lines = problem(`${MINIMAL}  port: abc\nlogging: { level: loud }\nextra: 1\n`).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.startsWith("config.yaml: "))).toBe(true);
  });

  it("says where YAML is broken, and when the file is empty or not a mapping", () => {
    expect(problem("homeserver: [\n")).toMatch(/^config\.yaml: not valid YAML at line 2, column 1: /);
    expect(problem("")).toBe("config.yaml: the file is empty; see config.sample.yaml for the keys it needs");
    expect(problem("- a\n")).toBe("config.yaml: must be a mapping of keys at the top level (got a list)");
  });

  it("uses no schema jargon", () => {
    const message = problem(`${MINIMAL}  port: abc\n  rateLimit: { max: 0 }\nbridge: { x: 1 }\n`);
    expect(message).not.toMatch(/\/webcall|instancePath|additionalProperties|must NOT|#\//);
  });
});

describe("loadConfig", () => {
  const dir = mkdtempSync(join(tmpdir(), "webcall-config-"));

  it("reads a file and names it in messages", () => {
    const path = join(dir, "config.yaml");
    writeFileSync(path, MINIMAL);
    expect(loadConfig(path).webcall.port).toBe(9040);
    writeFileSync(path, `${MINIMAL}  port: abc\n`);
    expect(() => loadConfig(path)).toThrow(`${path}: webcall.port must be a whole number (got "abc")`);
  });

  it("says when the file cannot be read", () => {
    const path = join(dir, "missing.yaml");
    expect(() => loadConfig(path)).toThrow(new ConfigError(path, ["cannot read the config file: no such file"]));
  });
});
