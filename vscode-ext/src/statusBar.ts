// The status bar item: live sessions from `lsp-shim ps --json` (VS Code edge).

import * as vscode from "vscode";
import { log, logStderr } from "./log";
import { ShimJsonError, parseSessions, sessionsForWindow, statusSummary, type Session } from "./shimJson";
import type { ShimLocator } from "./shims";

export interface SessionsSnapshot {
  all: Session[];
  mine: Session[];
  error?: string;
}

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private timer: NodeJS.Timeout | undefined;
  private last: SessionsSnapshot = { all: [], mine: [] };
  private inFlight: Promise<SessionsSnapshot> | undefined;

  constructor(private readonly shims: ShimLocator) {
    this.item = vscode.window.createStatusBarItem("lspShim.sessions", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "LSP Shim";
    this.item.command = "lspShim.showMenu";
    this.item.text = "$(shield) shim";
    this.item.show();
    this.schedule();
  }

  schedule(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const secs = vscode.workspace.getConfiguration("lspShim").get<number>("statusBar.refreshSeconds", 15);
    if (secs > 0) this.timer = setInterval(() => void this.refresh(), Math.max(2, secs) * 1000);
  }

  snapshot(): SessionsSnapshot {
    return this.last;
  }

  /** Ask the shim for its sessions; concurrent callers share one run. */
  refresh(): Promise<SessionsSnapshot> {
    if (!this.inFlight) {
      this.inFlight = this.doRefresh().finally(() => (this.inFlight = undefined));
    }
    return this.inFlight;
  }

  private async doRefresh(): Promise<SessionsSnapshot> {
    if (!this.shims.path("lsp-shim")) {
      this.item.text = "$(warning) lsp-shim missing";
      this.item.tooltip = "lsp-shim was not found. Click for how to install it.";
      this.last = { all: [], mine: [], error: "lsp-shim not found" };
      return this.last;
    }
    const r = await this.shims.run(["ps", "--json"], 20_000);
    if (!r) return this.last;
    if (r.code !== 0) {
      logStderr("ps", r.stderr);
      this.item.text = "$(warning) shim";
      this.item.tooltip = "lsp-shim ps failed: see the LSP Shim output.";
      this.last = { all: this.last.all, mine: this.last.mine, error: r.error ?? `exit ${r.code}` };
      return this.last;
    }
    try {
      const all = parseSessions(r.stdout);
      const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
      const mine = sessionsForWindow(all, process.pid, folders);
      const summary = statusSummary(mine, all);
      this.item.text = summary.text;
      this.item.tooltip = summary.tooltip;
      this.last = { all, mine };
    } catch (e) {
      const msg = e instanceof ShimJsonError ? e.message : String(e);
      log(msg);
      this.item.text = "$(warning) shim";
      this.item.tooltip = msg;
      this.last = { all: [], mine: [], error: msg };
    }
    return this.last;
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.item.dispose();
  }
}
