import { test } from "node:test";
import * as assert from "node:assert/strict";
import { exeName, expandSettingPath, findShim, installHint, uvToolBinDirs, type HostFacts } from "../src/findShim";

function facts(files: string[], opts: Partial<HostFacts> = {}, dirs: string[] = []): HostFacts {
  const fileSet = new Set(files);
  const dirSet = new Set(dirs);
  return {
    platform: "linux",
    env: {},
    home: "/home/u",
    isExecutableFile: (p) => fileSet.has(p),
    isDirectory: (p) => dirSet.has(p),
    ...opts,
  };
}

test("the setting wins over PATH and names lsp-shim itself", () => {
  const f = facts(["/opt/shim/lsp-shim", "/usr/bin/lsp-shim"], { env: { PATH: "/usr/bin" } });
  const r = findShim("lsp-shim", f, "/opt/shim/lsp-shim");
  assert.deepEqual(r.found && [r.path, r.via], ["/opt/shim/lsp-shim", "setting"]);
});

test("ruff-shim and ty-shim are siblings of the configured lsp-shim", () => {
  const f = facts(["/opt/shim/lsp-shim", "/opt/shim/ruff-shim", "/opt/shim/ty-shim"]);
  const r = findShim("ruff-shim", f, "/opt/shim/lsp-shim");
  assert.ok(r.found);
  assert.equal(r.path, "/opt/shim/ruff-shim");
  const t = findShim("ty-shim", f, "/opt/shim/lsp-shim");
  assert.ok(t.found && t.path === "/opt/shim/ty-shim");
});

test("the setting may name the folder", () => {
  const f = facts(["/opt/shim/ruff-shim"], {}, ["/opt/shim"]);
  const r = findShim("ruff-shim", f, "/opt/shim");
  assert.ok(r.found && r.path === "/opt/shim/ruff-shim");
});

test("a setting that points nowhere is reported, not skipped", () => {
  const f = facts(["/usr/bin/lsp-shim"], { env: { PATH: "/usr/bin" } });
  const r = findShim("lsp-shim", f, "/nope/lsp-shim");
  assert.equal(r.found, false);
  assert.ok(!r.found && r.settingProblem?.includes("/nope/lsp-shim"));
});

test("PATH in order, then uv's tool bin dir in uv's order", () => {
  const env = { PATH: "/a:/b", UV_TOOL_BIN_DIR: "/uvbin", XDG_BIN_HOME: "/xdgbin" };
  assert.equal((findShim("lsp-shim", facts(["/b/lsp-shim", "/uvbin/lsp-shim"], { env }), "") as { path: string }).path, "/b/lsp-shim");
  const r = findShim("lsp-shim", facts(["/xdgbin/lsp-shim", "/uvbin/lsp-shim", "/home/u/.local/bin/lsp-shim"], { env }), "");
  assert.ok(r.found && r.path === "/uvbin/lsp-shim" && r.via === "uv tool bin dir");
  const r2 = findShim("lsp-shim", facts(["/xdgbin/lsp-shim", "/home/u/.local/bin/lsp-shim"], { env }), "");
  assert.ok(r2.found && r2.path === "/xdgbin/lsp-shim");
  const r3 = findShim("lsp-shim", facts(["/home/u/.local/bin/lsp-shim"], { env: { PATH: "/a" } }), "");
  assert.ok(r3.found && r3.path === "/home/u/.local/bin/lsp-shim");
});

test("uv tool bin dirs: UV_TOOL_BIN_DIR, XDG_BIN_HOME, XDG_DATA_HOME/../bin, ~/.local/bin", () => {
  const dirs = uvToolBinDirs(facts([], { env: { UV_TOOL_BIN_DIR: "/u", XDG_BIN_HOME: "/x", XDG_DATA_HOME: "/d/share" } }));
  assert.deepEqual(dirs, ["/u", "/x", "/d/bin", "/home/u/.local/bin"]);
  assert.deepEqual(uvToolBinDirs(facts([])), ["/home/u/.local/bin"]);
});

test("Windows: .exe, ';' separated, case-insensitive Path, quoted entries", () => {
  const f = facts(["C:\\tools\\ruff-shim.exe", "C:\\Users\\u\\.local\\bin\\ty-shim.exe"], {
    platform: "win32",
    home: "C:\\Users\\u",
    env: { Path: 'C:\\Windows;"C:\\tools"' },
  });
  const r = findShim("ruff-shim", f, "");
  assert.ok(r.found && r.path === "C:\\tools\\ruff-shim.exe");
  const t = findShim("ty-shim", f, "");
  assert.ok(t.found && t.path === "C:\\Users\\u\\.local\\bin\\ty-shim.exe");
  assert.equal(exeName("lsp-shim", "win32"), "lsp-shim.exe");
  // lsp-shim.exe in the setting: siblings keep the .exe.
  const s = findShim("ruff-shim", f, "C:\\tools\\lsp-shim.exe");
  assert.ok(s.found && s.path === "C:\\tools\\ruff-shim.exe");
});

test("a bare name without .exe is not taken on Windows (node cannot spawn .cmd without a shell)", () => {
  const f = facts(["C:\\tools\\ruff-shim", "C:\\tools\\ruff-shim.cmd"], { platform: "win32", home: "C:\\Users\\u", env: { PATH: "C:\\tools" } });
  assert.equal(findShim("ruff-shim", f, "").found, false);
});

test("setting expansion: ~, ${userHome}, ${workspaceFolder}, ${env:X}", () => {
  const f = { home: "/home/u", env: { VENV: "/v" } };
  assert.equal(expandSettingPath("~/bin/lsp-shim", f), "/home/u/bin/lsp-shim");
  assert.equal(expandSettingPath("${userHome}/x", f), "/home/u/x");
  assert.equal(expandSettingPath("${workspaceFolder}/.venv/bin", f, "/w"), "/w/.venv/bin");
  assert.equal(expandSettingPath("${env:VENV}/bin/lsp-shim ", f), "/v/bin/lsp-shim");
});

test("the install hint says what was searched and how to install", () => {
  const r = findShim("lsp-shim", facts([], { env: { PATH: "/a" } }), "");
  assert.equal(r.found, false);
  if (r.found) return;
  const h = installHint("lsp-shim", r, "linux");
  assert.equal(h.installCommand, "uv tool install lsp-shim");
  assert.match(h.message, /lsp-shim was not found/);
  assert.match(h.message, /\/home\/u\/\.local\/bin/);
  assert.match(h.message, /uv tool install lsp-shim/);
  assert.match(h.message, /lspShim\.path/);
  const bad = findShim("lsp-shim", facts([]), "/x/lsp-shim");
  if (!bad.found) assert.match(installHint("lsp-shim", bad, "linux").message, /lspShim\.path is set to "\/x\/lsp-shim"/);
});
