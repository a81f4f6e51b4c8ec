import { test } from "node:test";
import * as assert from "node:assert/strict";
import { TOOLS, asPathList, isShimEntry, scopesWithShim, usesShim, withShim, withoutShim } from "../src/pathSetting";

const SHIM = "/home/u/.local/bin/ruff-shim";

test("ruff.path gets the shim first and keeps the user's entries as fallbacks", () => {
  assert.deepEqual(withShim(undefined, SHIM, "ruff-shim"), [SHIM]);
  assert.deepEqual(withShim([], SHIM, "ruff-shim"), [SHIM]);
  assert.deepEqual(withShim(["/venv/bin/ruff"], SHIM, "ruff-shim"), [SHIM, "/venv/bin/ruff"]);
  // A bare string (old configs) is read as a one-entry list.
  assert.deepEqual(withShim("/venv/bin/ruff", SHIM, "ruff-shim"), [SHIM, "/venv/bin/ruff"]);
});

test("withShim is idempotent and replaces an older shim path", () => {
  const once = withShim(["/venv/bin/ruff"], SHIM, "ruff-shim");
  assert.deepEqual(withShim(once, SHIM, "ruff-shim"), once);
  assert.deepEqual(withShim(["C:\\old\\ruff-shim.exe", "/venv/bin/ruff"], SHIM, "ruff-shim"), [SHIM, "/venv/bin/ruff"]);
});

test("undo removes shim entries and drops an empty setting", () => {
  assert.deepEqual(withoutShim([SHIM, "/venv/bin/ruff"], "ruff-shim"), ["/venv/bin/ruff"]);
  assert.equal(withoutShim([SHIM], "ruff-shim"), undefined);
  assert.equal(withoutShim(undefined, "ruff-shim"), undefined);
  assert.deepEqual(withoutShim(withShim(["/a/ruff"], SHIM, "ruff-shim"), "ruff-shim"), ["/a/ruff"]);
});

test("shim entries are recognised by file name, any folder, .exe or not", () => {
  assert.ok(isShimEntry("C:\\Users\\u\\.local\\bin\\ruff-shim.exe", "ruff-shim"));
  assert.ok(isShimEntry("/x/RUFF-SHIM", "ruff-shim"));
  assert.ok(!isShimEntry("/x/ruff", "ruff-shim"));
  assert.ok(!isShimEntry("/x/ruff-shim-old", "ruff-shim"));
  assert.ok(isShimEntry("/x/ty-shim", TOOLS.ty.shim));
});

test("usesShim looks at the first entry only (the first existing entry wins)", () => {
  assert.ok(usesShim([SHIM, "/a/ruff"], "ruff-shim"));
  assert.ok(!usesShim(["/a/ruff", SHIM], "ruff-shim"));
  assert.ok(!usesShim(undefined, "ruff-shim"));
});

test("scopesWithShim lists the scopes to undo, most specific first", () => {
  assert.deepEqual(scopesWithShim({ user: [SHIM], workspace: ["/a/ruff"], workspaceFolder: [SHIM] }, "ruff-shim"), ["workspaceFolder", "user"]);
  assert.deepEqual(scopesWithShim({}, "ruff-shim"), []);
});

test("asPathList ignores junk", () => {
  assert.deepEqual(asPathList([1, "", "/a", null]), ["/a"]);
  assert.deepEqual(asPathList(42), []);
});

test("tool table matches the official extensions", () => {
  assert.equal(TOOLS.ruff.setting, "ruff.path");
  assert.equal(TOOLS.ruff.extensionId, "charliermarsh.ruff");
  assert.equal(TOOLS.ty.setting, "ty.path");
  assert.equal(TOOLS.ty.extensionId, "astral-sh.ty");
});
