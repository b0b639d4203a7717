import { readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { parseConfig, schemaRoot } from "../../src/config/load";
import { generateSample } from "../../src/config/sample";

const committed = readFileSync(join(__dirname, "..", "..", "config.sample.yaml"), "utf8");

describe("config.sample.yaml", () => {
  it("is what the schema generates (npm run config:sample)", () => {
    expect(committed).toBe(generateSample());
  });

  it("is a valid config, and sets every optional key to its default", () => {
    const sample = yaml.load(committed) as Record<string, Record<string, unknown>>;
    const config = parseConfig(committed, "config.sample.yaml");
    // The sample's values are exactly what the defaults give: the required
    // keys plus nothing else yields the same config.
    const minimal = {
      homeserver: { url: sample.homeserver!.url, domain: sample.homeserver!.domain },
      webcall: { publicUrl: sample.webcall!.publicUrl },
    };
    expect(config).toEqual(parseConfig(yaml.dump(minimal)));
  });

  it("shows every key of the schema, in schema order, with its description", () => {
    const keys: string[] = [];
    const walk = (node: typeof schemaRoot, prefix: string): void => {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        keys.push(prefix + key);
        expect(committed).toContain(`${"  ".repeat(prefix.split(".").length - 1)}# ${child.description!.split(" ").slice(0, 4).join(" ")}`);
        walk(child, `${prefix}${key}.`);
      }
    };
    walk(schemaRoot, "");
    // Every key appears as `key:` (commented out when optional without a default).
    let at = 0;
    for (const path of keys) {
      const key = path.split(".").pop()!;
      const indent = "  ".repeat(path.split(".").length - 1);
      const found = committed.slice(at).search(new RegExp(`^${indent}(# )?${key}:`, "m"));
      expect({ path, found: found >= 0 }).toEqual({ path, found: true });
      at += found;
    }
  });

  it("marks the required keys", () => {
    expect(committed).toMatch(/# REQUIRED\.\nhomeserver:/);
    expect(committed).toMatch(/# REQUIRED\.\n {2}url: http:\/\/localhost:8008/);
    expect(committed).toMatch(/# REQUIRED\.\n {2}publicUrl: /);
    expect(committed).toContain("# url: postgresql://");
  });
});
