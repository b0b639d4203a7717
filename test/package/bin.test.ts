/**
 * The command before a build (a fresh clone, `npx matrix-appservice-webcall
 * -r …` as the README has it): one line saying what to run, not a
 * "Cannot find module" stack.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const bin = join(__dirname, "..", "..", "bin", "matrix-appservice-webcall.js");

describe("bin/matrix-appservice-webcall.js", () => {
  let dir: string;
  beforeAll(() => {
    // A copy of the package with bin/ but no dist/.
    dir = mkdtempSync(join(tmpdir(), "webcall-unbuilt-"));
    mkdirSync(join(dir, "bin"));
    copyFileSync(bin, join(dir, "bin", "matrix-appservice-webcall.js"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("says to run `npm run build` when dist/ is missing, in one line and with status 1", () => {
    const run = spawnSync(process.execPath, [join(dir, "bin", "matrix-appservice-webcall.js"), "-r", "-u", "http://localhost:8090", "-c", "config.yaml"], { cwd: dir, encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(`matrix-appservice-webcall: not built yet (no ${join(dir, "dist", "src", "cli.js")}): run \`npm run build\` in ${dir} first.\n`);
  });
});
