import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { AppServiceRegistration } from "matrix-appservice-bridge";
import { parseConfig } from "../../src/config/load";
import { readRegistration, virtualUserRegex, writeRegistration } from "../../src/config/registration";

const config = parseConfig(`
homeserver: { url: "http://localhost:8008", domain: example.org }
webcall: { publicUrl: "https://webcall.example.org/webcall" }
`);
const dir = mkdtempSync(join(tmpdir(), "webcall-registration-"));

describe("writeRegistration", () => {
  const path = join(dir, "registration.yaml");
  const written = writeRegistration(config, "http://localhost:8090", path);
  const file = yaml.load(readFileSync(path, "utf8")) as Record<string, unknown>;

  it("writes the fields the homeserver needs", () => {
    expect(file).toEqual(written);
    expect(file).toMatchObject({
      id: "webcall",
      url: "http://localhost:8090",
      sender_localpart: "webcall",
      rate_limited: false,
      namespaces: {
        users: [
          { regex: "^@webcall_.*:example\\.org$", exclusive: true },
          { regex: "^@webcall:example\\.org$", exclusive: true },
        ],
      },
    });
    expect(file.as_token).toMatch(/^[0-9a-f]{64}$/);
    expect(file.hs_token).toMatch(/^[0-9a-f]{64}$/);
    expect(file.as_token).not.toBe(file.hs_token);
  });

  it("makes fresh tokens each time", () => {
    const again = writeRegistration(config, "http://localhost:8090", join(dir, "again.yaml"));
    expect(again.as_token).not.toBe(written.as_token);
    expect(again.hs_token).not.toBe(written.hs_token);
  });

  it("keeps the file private to its owner (it holds the tokens)", () => {
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const existing = join(dir, "existing.yaml");
    writeFileSync(existing, "", { mode: 0o644 });
    writeRegistration(config, "http://localhost:8090", existing);
    expect(statSync(existing).mode & 0o777).toBe(0o600);
  });

  it("claims the virtual users and the bot, and no one else", () => {
    const reg = AppServiceRegistration.fromObject(written as never);
    for (const userId of ["@webcall_alf=40employer.com:example.org", "@webcall__bob___b=40x.org:example.org", "@webcall:example.org"]) {
      expect({ userId, ours: reg.isUserMatch(userId, true) }).toEqual({ userId, ours: true });
    }
    for (const userId of ["@alice:example.org", "@webcall_alf=40employer.com:exampleXorg", "@webcall_x:example.org.evil", "@webcallx:example.org", "@xwebcall_a:example.org"]) {
      expect({ userId, ours: reg.isUserMatch(userId, true) }).toEqual({ userId, ours: false });
    }
  });

  it("escapes the prefix and domain and follows the config", () => {
    const other = parseConfig(`
homeserver: { url: "http://hs:8008", domain: "hs.example.org:8448" }
webcall: { publicUrl: "https://w.example.org/webcall" }
bridge: { userPrefix: "wc.", botLocalpart: "wc-bot" }
`);
    const reg = writeRegistration(other, "http://bridge:9000", join(dir, "other.yaml"));
    expect(reg.sender_localpart).toBe("wc-bot");
    expect(virtualUserRegex(other)).toBe("^@wc\\..*:hs\\.example\\.org:8448$");
    const users = AppServiceRegistration.fromObject(reg as never);
    expect(users.isUserMatch("@wc.alf=40x.org:hs.example.org:8448", true)).toBe(true);
    expect(users.isUserMatch("@wcXalf=40x.org:hs.example.org:8448", true)).toBe(false);
    expect(users.isUserMatch("@wc-bot:hs.example.org:8448", true)).toBe(true);
  });
});

describe("readRegistration", () => {
  it("reads back what writeRegistration wrote", () => {
    const path = join(dir, "roundtrip.yaml");
    const written = writeRegistration(config, "http://localhost:8090", path);
    expect(readRegistration(path, config)).toEqual(written);
  });

  it("says how to make a missing one", () => {
    const path = join(dir, "none.yaml");
    expect(() => readRegistration(path, config)).toThrow(`${path}: no such file; generate the registration with -r -u URL -c CONFIG -f ${path}`);
  });

  it("names missing fields and a bot that differs from the config", () => {
    const path = join(dir, "bad.yaml");
    writeFileSync(path, "id: webcall\nas_token: a\nsender_localpart: bot\nurl: http://x:1\n");
    expect(() => readRegistration(path, config)).toThrow(
      [
        `${path}: hs_token must be a non-empty string (got nothing)`,
        `${path}: sender_localpart is "bot" but the config's bridge.botLocalpart is "webcall"; regenerate the registration with -r`,
        `${path}: the user namespace is not for this config: it claims no users (namespaces.users), not the bot @webcall:example.org ` +
          "and the virtual users @webcall_…:example.org (homeserver.domain is example.org); write one for this config with -r --force, " +
          "list it in the homeserver's app_service_config_files and restart the homeserver",
      ].join("\n"),
    );
  });
});
