// The status bar menu and its actions: who holds a file, clean old copies, restart, show log,
// doctor (VS Code edge).

import * as path from "path";
import * as vscode from "vscode";
import type { ClientManager } from "./clients";
import { log, logStderr, outputChannel } from "./log";
import { TOOLS, usesShim } from "./pathSetting";
import { describeLocks, parseLocks, sessionDetail, sessionLabel, ShimJsonError, type LockReport } from "./shimJson";
import type { ShimLocator } from "./shims";
import type { StatusBar } from "./statusBar";

type MenuItem = vscode.QuickPickItem & { run?: () => Thenable<unknown> | Promise<unknown> };

export class Actions {
  constructor(
    private readonly shims: ShimLocator,
    private readonly clients: ClientManager,
    private readonly status: StatusBar,
  ) {}

  async showMenu(): Promise<void> {
    if (!this.shims.path("lsp-shim")) {
      await this.shims.reportMissing("lsp-shim", true);
      return;
    }
    const snap = await this.status.refresh();
    const items: MenuItem[] = [];
    if (snap.mine.length) {
      items.push({ label: "Sessions of this window", kind: vscode.QuickPickItemKind.Separator });
      for (const s of snap.mine) {
        items.push({
          label: `$(server-process) ${sessionLabel(s)}`,
          description: s.workspace ? path.basename(s.workspace) : undefined,
          detail: sessionDetail(s),
          run: () => this.whoHolds(s.source ? { path: s.source } : undefined),
        });
      }
    } else {
      items.push({ label: "No server of this window runs through the shim", kind: vscode.QuickPickItemKind.Separator });
    }
    items.push({ label: "Actions", kind: vscode.QuickPickItemKind.Separator });
    items.push(
      { label: "$(search) Who holds this file?", description: "lsp-shim locks", run: () => this.whoHolds() },
      { label: "$(trash) Clean old copies", description: "lsp-shim gc", run: () => this.gc() },
      { label: "$(debug-restart) Restart server", run: () => this.restart() },
      { label: "$(output) Show log", run: async () => outputChannel().show(true) },
      { label: "$(checklist) Check the Ruff setup", description: "lsp-shim doctor ruff", run: () => this.doctor() },
    );
    for (const tool of Object.values(TOOLS)) {
      if (!vscode.extensions.getExtension(tool.extensionId)) continue;
      const on = usesShim(vscode.workspace.getConfiguration().get(tool.setting), tool.shim);
      items.push(
        on
          ? {
              label: `$(discard) Stop using ${tool.shim} for the ${tool.displayName} extension`,
              run: () => vscode.commands.executeCommand(`lspShim.undoShimFor${tool.commandSuffix}`),
            }
          : {
              label: `$(plug) Use ${tool.shim} for the ${tool.displayName} extension`,
              description: tool.setting,
              run: () => vscode.commands.executeCommand(`lspShim.useShimFor${tool.commandSuffix}`),
            },
      );
    }
    if (snap.all.length > snap.mine.length) {
      items.push({ label: "Other sessions on this machine", kind: vscode.QuickPickItemKind.Separator });
      for (const s of snap.all.filter((x) => !snap.mine.includes(x))) {
        items.push({ label: sessionLabel(s), description: s.workspace, detail: sessionDetail(s), run: () => this.whoHolds(s.source ? { path: s.source } : undefined) });
      }
    }
    const pick = await vscode.window.showQuickPick(items, { placeHolder: "LSP Shim", matchOnDetail: true });
    await pick?.run?.();
  }

  /**
   * `lsp-shim locks --json PATH`. With no argument: offer the sources of the live sessions, the
   * active editor's file, and a file browser.
   */
  async whoHolds(arg?: unknown): Promise<LockReport[] | undefined> {
    let target = typeof arg === "object" && arg !== null && typeof (arg as { path?: unknown }).path === "string" ? (arg as { path: string }).path : undefined;
    if (arg instanceof vscode.Uri) target = arg.fsPath;
    if (!target) {
      const snap = await this.status.refresh();
      const candidates = new Set<string>();
      for (const s of snap.all) if (s.source) candidates.add(s.source);
      const active = vscode.window.activeTextEditor?.document.uri;
      const items: Array<vscode.QuickPickItem & { p?: string }> = [...candidates].map((p) => ({ label: path.basename(p), description: p, p }));
      if (active?.scheme === "file") items.push({ label: path.basename(active.fsPath), description: "active editor", p: active.fsPath });
      items.push({ label: "$(folder-opened) Browse…" });
      const pick = await vscode.window.showQuickPick(items, { placeHolder: "Which file? (e.g. the ruff executable an upgrade could not replace)" });
      if (!pick) return undefined;
      if (pick.p) {
        target = pick.p;
      } else {
        const uris = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: "Who holds it?" });
        target = uris?.[0]?.fsPath;
      }
    }
    if (!target) return undefined;
    const r = await this.shims.run(["locks", "--json", target]);
    if (!r) return undefined;
    logStderr("locks", r.stderr);
    if (r.code !== 0) {
      void vscode.window.showErrorMessage(`LSP Shim: lsp-shim locks failed; see the log.`, "Show log").then((p) => p && outputChannel().show(true));
      return undefined;
    }
    let reports: LockReport[];
    try {
      reports = parseLocks(r.stdout);
    } catch (e) {
      log(e instanceof ShimJsonError ? e.message : String(e));
      return undefined;
    }
    const text = describeLocks(reports);
    log(text);
    const held = reports.some((x) => x.holders.length > 0);
    const show = held ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    void show(`LSP Shim: ${text}`, "Show log").then((p) => p && outputChannel().show(true));
    return reports;
  }

  async gc(arg?: unknown): Promise<string | undefined> {
    const dryRun = typeof arg === "object" && arg !== null && (arg as { dryRun?: unknown }).dryRun === true;
    // `{confirm: false}` (scripts, tests) skips the modal confirmation.
    const skipPrompt = typeof arg === "object" && arg !== null && (arg as { confirm?: unknown }).confirm === false;
    if (!dryRun && !skipPrompt) {
      const preview = await this.shims.run(["gc", "--dry-run"]);
      if (!preview) return undefined;
      logStderr("gc", preview.stderr);
      const what = preview.stdout.trim() || "(nothing listed)";
      outputChannel().appendLine(`lsp-shim gc --dry-run:\n${what}`);
      const go = await vscode.window.showInformationMessage(
        "Remove the shim's copies that no running server uses?",
        { modal: true, detail: what.split(/\r?\n/).slice(0, 20).join("\n") },
        "Clean",
      );
      if (go !== "Clean") return undefined;
    }
    const args = dryRun ? ["gc", "--dry-run"] : ["gc"];
    const r = await this.shims.run(args, 120_000);
    if (!r) return undefined;
    logStderr("gc", r.stderr);
    outputChannel().appendLine(`lsp-shim ${args.join(" ")}:\n${r.stdout.trimEnd()}`);
    if (r.code !== 0) {
      void vscode.window.showErrorMessage("LSP Shim: lsp-shim gc failed; see the log.", "Show log").then((p) => p && outputChannel().show(true));
      return undefined;
    }
    const last = r.stdout.trim().split(/\r?\n/).pop() || "done";
    void vscode.window.showInformationMessage(`LSP Shim: ${last}`);
    await this.status.refresh();
    return r.stdout;
  }

  async restart(arg?: unknown): Promise<void> {
    const items: Array<vscode.QuickPickItem & { run: () => Promise<unknown> | Thenable<unknown> }> = [];
    for (const c of this.clients.list()) {
      items.push({ label: c.name, description: [path.basename(c.command), ...c.args].join(" "), run: () => this.clients.restart(c.id) });
    }
    for (const tool of Object.values(TOOLS)) {
      if (vscode.extensions.getExtension(tool.extensionId)) {
        items.push({ label: `${tool.displayName} extension`, description: tool.restartCommand, run: () => vscode.commands.executeCommand(tool.restartCommand) });
      }
    }
    const wanted = typeof arg === "object" && arg !== null ? (arg as { id?: unknown }).id : undefined;
    let pick: (typeof items)[number] | undefined;
    if (typeof wanted === "string") {
      const c = this.clients.list().find((x) => x.id === wanted);
      if (c) await this.clients.restart(c.id);
    } else if (items.length === 0) {
      void vscode.window.showInformationMessage("LSP Shim: no server to restart.");
    } else if (items.length === 1) {
      pick = items[0];
    } else {
      pick = await vscode.window.showQuickPick(items, { placeHolder: "Restart which server?" });
    }
    await pick?.run();
    setTimeout(() => void this.status.refresh(), 1500);
  }

  async doctor(): Promise<void> {
    const r = await this.shims.run(["doctor", "ruff"], 120_000);
    if (!r) return;
    const ch = outputChannel();
    ch.appendLine("lsp-shim doctor ruff:");
    if (r.stdout.trim()) ch.appendLine(r.stdout.trimEnd());
    if (r.stderr.trim()) ch.appendLine(r.stderr.trimEnd());
    ch.show(true);
  }
}
