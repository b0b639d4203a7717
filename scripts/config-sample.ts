/**
 * Writes config.sample.yaml from the config schema, or with --check fails
 * when the committed sample is not what the schema generates.
 *   npm run config:sample      rewrite the sample
 *   npm run config:check       exit 1 if it is out of date
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateSample } from "../src/config/sample";

const file = join(__dirname, "..", "config.sample.yaml");
const expected = generateSample();

if (process.argv.includes("--check")) {
  let actual = "";
  try {
    actual = readFileSync(file, "utf8");
  } catch {
    // missing: reported below like any other difference
  }
  if (actual !== expected) {
    const a = actual.split("\n");
    const e = expected.split("\n");
    const line = e.findIndex((l, i) => l !== a[i]);
    process.stderr.write(
      `config.sample.yaml is out of date with src/config/schema.ts` +
        (actual ? ` (first difference at line ${line + 1})` : " (file missing)") +
        `.\nRun \`npm run config:sample\` and commit the result.\n`,
    );
    process.exit(1);
  }
  process.stdout.write("config.sample.yaml is up to date.\n");
} else {
  writeFileSync(file, expected);
  process.stdout.write(`Wrote ${file}\n`);
}
