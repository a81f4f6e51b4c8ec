import { test } from "node:test";
import * as assert from "node:assert/strict";
import { describeFailure, runFile } from "../src/run";

test("runFile passes arguments verbatim (no shell) and captures both streams", async () => {
  const r = await runFile(process.execPath, ["-e", "console.log(JSON.stringify(process.argv.slice(1))); console.error('log line')", "$(echo hi)", "a;b", "*"]);
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.stdout), ["$(echo hi)", "a;b", "*"]);
  assert.equal(r.stderr.trim(), "log line");
});

test("runFile reports exit codes, missing programs and time-outs", async () => {
  const bad = await runFile(process.execPath, ["-e", "console.error('boom'); process.exit(3)"]);
  assert.equal(bad.code, 3);
  assert.match(describeFailure("x", ["y"], bad), /x y exited 3: boom/);
  const missing = await runFile("/nonexistent/lsp-shim", ["ps"]);
  assert.equal(missing.code, null);
  assert.match(missing.error ?? "", /ENOENT/);
  const slow = await runFile(process.execPath, ["-e", "setTimeout(() => {}, 10000)"], { timeoutMs: 200 });
  assert.match(slow.error ?? "", /timed out/);
});
