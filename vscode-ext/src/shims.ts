// Locating the shim executables with the user's settings (VS Code edge over findShim.ts).

import * as vscode from "vscode";
import { findShim, installHint, type FindResult, type ShimName } from "./findShim";
import { nodeHostFacts } from "./hostFacts";
import { log } from "./log";
import { describeFailure, runFile, type RunResult } from "./run";

export class ShimLocator {
  private cache = new Map<ShimName, FindResult>();
  private warned = false;

  invalidate(): void {
    this.cache.clear();
    this.warned = false;
  }

  find(name: ShimName): FindResult {
    let r = this.cache.get(name);
    if (!r) {
      const setting = vscode.workspace.getConfiguration("lspShim").get<string>("path") ?? "";
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      r = findShim(name, nodeHostFacts(), setting, folder);
      this.cache.set(name, r);
      log(r.found ? `${name}: ${r.path} (via ${r.via})` : `${name}: not found`);
    }
    return r;
  }

  path(name: ShimName): string | undefined {
    const r = this.find(name);
    return r.found ? r.path : undefined;
  }

  /** Tell the user how to install the shim: once per session unless `force` (a user action). */
  async reportMissing(name: ShimName, force = false): Promise<void> {
    const r = this.find(name);
    if (r.found) return;
    if (this.warned && !force) return;
    this.warned = true;
    const hint = installHint(name, r, process.platform);
    log(hint.message);
    const copy = "Copy install command";
    const settings = "Open setting";
    const pick = await vscode.window.showWarningMessage(`LSP Shim: ${hint.message}`, copy, settings);
    if (pick === copy) {
      await vscode.env.clipboard.writeText(hint.installCommand);
    } else if (pick === settings) {
      await vscode.commands.executeCommand("workbench.action.openSettings", "lspShim.path");
    }
  }

  /** Run `lsp-shim ARGS…`; its stderr (the shim's log) goes to the output channel. */
  async run(args: string[], timeoutMs = 60_000): Promise<RunResult | undefined> {
    const exe = this.path("lsp-shim");
    if (!exe) {
      void this.reportMissing("lsp-shim", true);
      return undefined;
    }
    const r = await runFile(exe, args, { timeoutMs, cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath });
    if (r.code !== 0) log(describeFailure(exe, args, r));
    return r;
  }
}
