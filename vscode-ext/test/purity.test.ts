// The decision-making modules must not import `vscode`, so they run (and are tested) in plain node.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const PURE = ["findShim.ts", "pathSetting.ts", "shimJson.ts", "serverCommand.ts", "run.ts", "hostFacts.ts"];
const SRC = path.join(__dirname, "..", "..", "src");

for (const file of PURE) {
  test(`${file} does not import vscode`, () => {
    const text = fs.readFileSync(path.join(SRC, file), "utf8");
    assert.doesNotMatch(text, /from\s+["']vscode(-languageclient[^"']*)?["']|require\(["']vscode/);
  });
}

test("no module spawns through a shell", () => {
  for (const file of fs.readdirSync(SRC)) {
    const text = fs.readFileSync(path.join(SRC, file), "utf8");
    assert.doesNotMatch(text, /shell:\s*true|\bexec\(|execSync\(/, file);
  }
});
