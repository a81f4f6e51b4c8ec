// Test-only extension: see README.md. Plain JavaScript, no build step.
"use strict";
const fs = require("fs");
const path = require("path");
const vscode = require("vscode");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function diagToJson(d) {
  return {
    message: d.message,
    code: typeof d.code === "object" && d.code !== null ? d.code.value : d.code,
    source: d.source,
    severity: d.severity,
    range: [d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character],
  };
}

function readText(p) {
  try {
    return fs.readFileSync(p, "utf8");
  } catch (e) {
    return null;
  }
}

async function activate() {
  const out = process.env.LSP_SHIM_PROBE_OUT;
  if (!out) return;
  const result = { steps: [], errors: [], done: false, hostPid: process.pid };
  const save = () => {
    fs.writeFileSync(out + ".tmp", JSON.stringify(result, null, 2));
    fs.renameSync(out + ".tmp", out);
  };
  const step = async (name, fn) => {
    const t0 = Date.now();
    try {
      result[name] = await fn();
    } catch (e) {
      result.errors.push(`${name}: ${e && e.stack ? e.stack : String(e)}`);
    }
    result.steps.push({ name, ms: Date.now() - t0 });
    save();
  };
  save();
  const timeoutMs = Number(process.env.LSP_SHIM_PROBE_TIMEOUT_MS || 90000);
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  if (!folder) {
    result.errors.push("no workspace folder");
    result.done = true;
    save();
    return;
  }
  const settingsFile = path.join(folder.uri.fsPath, ".vscode", "settings.json");

  await step("activate", async () => {
    const ext = vscode.extensions.getExtension("lsp-shim.lsp-shim");
    if (!ext) throw new Error("lsp-shim.lsp-shim is not installed");
    await ext.activate();
    return { active: ext.isActive, version: ext.packageJSON.version };
  });
  const uri = vscode.Uri.joinPath(folder.uri, process.env.LSP_SHIM_PROBE_FILE || "bad.py");
  await step("open", async () => {
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    return { uri: uri.toString(), languageId: doc.languageId };
  });
  if (process.env.LSP_SHIM_PROBE_MODE === "official") {
    // The official Ruff extension (or its stand-in) is installed: give LSP Shim time to (not)
    // start its own Ruff client, then look at what runs and use the ruff.path command.
    await sleep(Number(process.env.LSP_SHIM_PROBE_SETTLE_MS || 3000));
    await step("sessions", () => vscode.commands.executeCommand("lspShim.sessions"));
    await step("diagnostics", async () => vscode.languages.getDiagnostics(uri).map(diagToJson));
    await step("useShim", () => vscode.commands.executeCommand("lspShim.useShimForRuff", { scope: "workspace" }));
    result.settingsFinal = readText(settingsFile);
    result.done = true;
    save();
    return;
  }
  await step("diagnostics", async () => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && vscode.languages.getDiagnostics(uri).length === 0) {
      await sleep(200);
    }
    return vscode.languages.getDiagnostics(uri).map(diagToJson);
  });
  const extra = process.env.LSP_SHIM_PROBE_EXTRA_FILE;
  if (extra) {
    // A document for a server listed in lspShim.servers (run as `lsp-shim -- COMMAND`).
    const extraUri = vscode.Uri.joinPath(folder.uri, extra);
    await step("extraDiagnostics", async () => {
      const doc = await vscode.workspace.openTextDocument(extraUri);
      await vscode.window.showTextDocument(doc, { preview: false });
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && vscode.languages.getDiagnostics(extraUri).length === 0) {
        await sleep(200);
      }
      return vscode.languages.getDiagnostics(extraUri).map(diagToJson);
    });
  }
  await step("sessions", () => vscode.commands.executeCommand("lspShim.sessions"));
  // The status bar menu's actions, through their commands.
  const holds = process.env.LSP_SHIM_PROBE_HOLDS || path.join(folder.uri.fsPath, ".venv", "bin", "ruff");
  await step("whoHolds", () => vscode.commands.executeCommand("lspShim.whoHolds", { path: holds }));
  await step("gcDryRun", () => vscode.commands.executeCommand("lspShim.gc", { dryRun: true }));
  await step("restart", async () => {
    const ruffPids = (snap) => snap.mine.filter((s) => s.server === "ruff").map((s) => s.pid);
    const oldPids = ruffPids(await vscode.commands.executeCommand("lspShim.sessions"));
    await vscode.commands.executeCommand("lspShim.restart", { id: "ruff" });
    const deadline = Date.now() + 30000;
    let after;
    let newPids = [];
    while (Date.now() < deadline) {
      after = await vscode.commands.executeCommand("lspShim.sessions");
      newPids = ruffPids(after);
      if (newPids.length > 0 && !newPids.some((p) => oldPids.includes(p))) break;
      await sleep(300);
    }
    return { oldPids, newPids, after };
  });
  await step("diagnosticsAfterRestart", async () => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && vscode.languages.getDiagnostics(uri).length === 0) {
      await sleep(200);
    }
    return vscode.languages.getDiagnostics(uri).map(diagToJson);
  });
  await step("useShim", () => vscode.commands.executeCommand("lspShim.useShimForRuff", { scope: "workspace" }));
  result.settingsAfterUse = readText(settingsFile);
  await step("undoShim", () => vscode.commands.executeCommand("lspShim.undoShimForRuff", { scope: "workspace" }));
  result.settingsAfterUndo = readText(settingsFile);
  await step("useShimAgain", () => vscode.commands.executeCommand("lspShim.useShimForRuff", { scope: "workspace" }));
  result.settingsFinal = readText(settingsFile);
  result.done = true;
  save();
}

function deactivate() {}

module.exports = { activate, deactivate };
