import { test } from "node:test";
import * as assert from "node:assert/strict";
import { buildServerCommand, parseServerSettings, ruffSpec, tySpec, wantBuiltin } from "../src/serverCommand";

const SHIMS = { lspShim: "/b/lsp-shim", ruffShim: "/b/ruff-shim", tyShim: "/b/ty-shim" };

test("ruff runs as `ruff-shim server`, ty as `ty-shim server`", () => {
  assert.deepEqual(buildServerCommand(ruffSpec(), SHIMS), { ok: true, launch: { command: "/b/ruff-shim", args: ["server"] } });
  assert.deepEqual(buildServerCommand(tySpec(), SHIMS), { ok: true, launch: { command: "/b/ty-shim", args: ["server"] } });
  assert.deepEqual(buildServerCommand(ruffSpec(), { lspShim: "/b/lsp-shim" }), { ok: false, missing: "ruff-shim" });
});

test("custom servers run as `lsp-shim [--log-file F] -- COMMAND ARGS`", () => {
  const { specs, errors } = parseServerSettings([{ name: "taplo", command: "taplo", args: ["lsp", "stdio"], documentSelector: ["toml"] }]);
  assert.deepEqual(errors, []);
  const spec = specs[0]!;
  assert.deepEqual(buildServerCommand(spec, SHIMS), { ok: true, launch: { command: "/b/lsp-shim", args: ["--", "taplo", "lsp", "stdio"] } });
  assert.deepEqual(buildServerCommand(spec, SHIMS, "/tmp/l.log"), {
    ok: true,
    launch: { command: "/b/lsp-shim", args: ["--log-file", "/tmp/l.log", "--", "taplo", "lsp", "stdio"] },
  });
  assert.deepEqual(buildServerCommand(spec, {}), { ok: false, missing: "lsp-shim" });
  // Arguments are passed as a list: shell metacharacters stay literal.
  const odd = parseServerSettings([{ command: "srv", args: ["a b", "$(x)", ";rm"], documentSelector: ["x"] }]).specs[0]!;
  const b = buildServerCommand(odd, SHIMS);
  assert.ok(b.ok && b.launch.args.join("|") === "--|srv|a b|$(x)|;rm");
});

test("lspShim.servers validation keeps good entries and reports bad ones", () => {
  const { specs, errors } = parseServerSettings([
    { command: "/usr/bin/pylsp", documentSelector: [{ language: "python", scheme: "file" }, "cython"], env: { A: "1" } },
    { command: "" , documentSelector: ["x"] },
    { command: "a", documentSelector: [] },
    { command: "a", args: [1], documentSelector: ["x"] },
    { command: "a", documentSelector: [{ foo: 1 }] },
    { command: "a", documentSelector: ["x"], env: { B: 2 } },
    "nope",
    { name: "pylsp", command: "other", documentSelector: "python" },
  ]);
  assert.equal(specs.length, 2);
  assert.equal(specs[0]!.id, "custom:pylsp");
  assert.equal(specs[0]!.name, "pylsp (lsp-shim)");
  assert.deepEqual(specs[0]!.documentSelector, [{ language: "python", scheme: "file" }, { language: "cython" }]);
  assert.deepEqual(specs[0]!.env, { A: "1" });
  assert.equal(specs[1]!.id, "custom:pylsp#2", "ids stay unique");
  assert.equal(errors.length, 6);
  assert.match(errors[0]!, /lspShim\.servers\[1\]: "command" is required/);
  assert.deepEqual(parseServerSettings(undefined), { specs: [], errors: [] });
  assert.deepEqual(parseServerSettings({}).errors, ["lspShim.servers must be a list"]);
});

test("ruff initializationOptions: only a non-empty object is sent", () => {
  assert.equal(ruffSpec({}).initializationOptions, undefined);
  assert.deepEqual(ruffSpec({ lint: { select: ["F"] } }).initializationOptions, { lint: { select: ["F"] } });
});

test("built-in client modes", () => {
  assert.equal(wantBuiltin("auto", false), true);
  assert.equal(wantBuiltin("auto", true), false);
  assert.equal(wantBuiltin("on", true), true);
  assert.equal(wantBuiltin("off", false), false);
});
