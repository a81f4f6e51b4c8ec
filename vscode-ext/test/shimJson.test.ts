import { test } from "node:test";
import * as assert from "node:assert/strict";
import { describeLocks, parseLocks, parseSessions, sessionsForWindow, statusSummary, ShimJsonError } from "../src/shimJson";

const PS = JSON.stringify([
  {
    pid: 100, create_time: 1700000000.5, server: "ruff", version: "0.17.1",
    source: "/w/.venv/bin/ruff", copy: "/store/ruff/0.17.1-abc/ruff", command: ["/store/ruff/0.17.1-abc/ruff", "server"],
    server_pid: 101, parent_pid: 42, editor_pid: 7, workspace: "/w", started: "2026-01-01T00:00:00Z", extra: true,
  },
  { pid: 200, server: "ty", version: null, command: "ty server", parent_pid: 9, workspace: "/other" },
  { nopid: true },
  "junk",
]);

test("ps --json: fields mapped, junk dropped, unknown keys ignored", () => {
  const s = parseSessions(PS);
  assert.equal(s.length, 2);
  assert.deepEqual(s[0], {
    pid: 100, createTime: 1700000000.5, server: "ruff", version: "0.17.1", source: "/w/.venv/bin/ruff",
    copy: "/store/ruff/0.17.1-abc/ruff", command: ["/store/ruff/0.17.1-abc/ruff", "server"], serverPid: 101,
    parentPid: 42, editorPid: 7, workspace: "/w", started: "2026-01-01T00:00:00Z",
  });
  assert.equal(s[1]?.version, undefined);
  assert.deepEqual(s[1]?.command, ["ty server"]);
});

test("ps --json: empty list and bad text", () => {
  assert.deepEqual(parseSessions("[]\n"), []);
  assert.throws(() => parseSessions("Traceback ..."), ShimJsonError);
  assert.throws(() => parseSessions("{}"), /expected a JSON list/);
});

test("sessions of this window: by extension host pid or editor pid", () => {
  const s = parseSessions(PS);
  assert.deepEqual(sessionsForWindow(s, 42, []).map((x) => x.pid), [100]);
  assert.deepEqual(sessionsForWindow(s, 7, []).map((x) => x.pid), [100]);
  assert.deepEqual(sessionsForWindow(s, 9, ["/w"]).map((x) => x.pid), [200]);
  // Another window's session on the same folder is not ours.
  assert.deepEqual(sessionsForWindow(s, 1, ["/w", "/other"]), []);
});

test("sessions without any pid attribution fall back to the workspace folder", () => {
  const s = parseSessions(JSON.stringify([
    { pid: 1, server: "ruff", workspace: "/w/sub" },
    { pid: 2, server: "ruff", workspace: "C:\\Proj" },
    { pid: 3, server: "ruff", workspace: "/wx" },
  ]));
  assert.deepEqual(sessionsForWindow(s, 5, ["/w/"]).map((x) => x.pid), [1]);
  assert.deepEqual(sessionsForWindow(s, 5, ["c:/proj"]).map((x) => x.pid), [2]);
  assert.deepEqual(sessionsForWindow(s, 5, ["/"]).map((x) => x.pid), [1, 3]);
});

test("status text: server, version and where the copy runs", () => {
  const s = parseSessions(PS);
  const one = statusSummary([s[0]!], s);
  assert.equal(one.text, "$(shield) ruff 0.17.1");
  assert.match(one.tooltip, /runs from \/store\/ruff\/0\.17\.1-abc\/ruff/);
  assert.match(one.tooltip, /copied from \/w\/\.venv\/bin\/ruff/);
  assert.match(one.tooltip, /1 more session on this machine/);
  assert.equal(statusSummary(s, s).text, "$(shield) ruff 0.17.1, ty");
  assert.equal(statusSummary([s[0]!, s[0]!], s).text, "$(shield) ruff 0.17.1 ×2");
  const three = [s[0]!, s[1]!, { ...s[1]!, server: "taplo" }];
  assert.equal(statusSummary(three, three).text, "$(shield) 3 servers");
  assert.equal(statusSummary([], []).text, "$(shield) shim");
});

test("locks --json parsed and described", () => {
  const r = parseLocks(JSON.stringify([
    { path: "/w/.venv/bin/ruff", holders: [] },
    { path: "/x/ruff", holders: [{ pid: 5, name: "ruff", how: ["exe", "mapped"] }, { pid: 6, name: "cat", how: "open" }] },
  ]));
  assert.deepEqual(r[1]?.holders[1], { pid: 6, name: "cat", how: ["open"] });
  const text = describeLocks(r);
  assert.match(text, /\/w\/\.venv\/bin\/ruff: held by no process/);
  assert.match(text, /\/x\/ruff: held by ruff \(pid 5, exe\/mapped\), cat \(pid 6, open\)/);
  assert.throws(() => parseLocks("nope"), ShimJsonError);
});
