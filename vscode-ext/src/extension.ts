// Entry point: wires the pieces together. Everything that decides something lives in the pure
// modules (findShim, pathSetting, shimJson, serverCommand); this file only connects VS Code.

import * as vscode from "vscode";
import { Actions } from "./actions";
import { ClientManager } from "./clients";
import { disposeLog, log, outputChannel } from "./log";
import { TOOLS } from "./pathSetting";
import { ShimLocator } from "./shims";
import { StatusBar } from "./statusBar";
import { maybeOffer, undoShim, useShim } from "./toolSettings";

let clients: ClientManager | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  outputChannel();
  log(`LSP Shim ${String(context.extension.packageJSON.version)} activating (extension host pid ${process.pid})`);
  const shims = new ShimLocator();
  clients = new ClientManager(shims);
  const status = new StatusBar(shims);
  const actions = new Actions(shims, clients, status);
  const mgr = clients;

  const reg = (id: string, fn: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  reg("lspShim.useShimForRuff", (arg) => useShim(TOOLS.ruff, shims, arg));
  reg("lspShim.undoShimForRuff", (arg) => undoShim(TOOLS.ruff, arg));
  reg("lspShim.useShimForTy", (arg) => useShim(TOOLS.ty, shims, arg));
  reg("lspShim.undoShimForTy", (arg) => undoShim(TOOLS.ty, arg));
  reg("lspShim.showMenu", () => actions.showMenu());
  reg("lspShim.whoHolds", (arg) => actions.whoHolds(arg));
  reg("lspShim.gc", (arg) => actions.gc(arg));
  reg("lspShim.restart", (arg) => actions.restart(arg));
  reg("lspShim.showLog", () => outputChannel().show(true));
  reg("lspShim.doctor", () => actions.doctor());
  // Returns the sessions and the built-in clients: used by scripts and the tests.
  reg("lspShim.sessions", async () => ({ ...(await status.refresh()), clients: mgr.list() }));

  context.subscriptions.push(
    status,
    mgr,
    mgr.onDidChange(() => setTimeout(() => void status.refresh(), 1000)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("lspShim.path")) shims.invalidate();
      if (e.affectsConfiguration("lspShim.statusBar")) status.schedule();
      if (e.affectsConfiguration("lspShim")) void mgr.sync().then(() => status.refresh());
    }),
    // Installing / enabling the official Ruff or ty extension turns the "auto" client off.
    vscode.extensions.onDidChange(() => void mgr.sync()),
  );

  await mgr.sync();
  void status.refresh();
  void maybeOffer(context, shims);
  if (!shims.path("lsp-shim")) void shims.reportMissing("lsp-shim");
}

export async function deactivate(): Promise<void> {
  await clients?.stopAll();
  clients = undefined;
  disposeLog();
}
