// Pointing the official Ruff / ty extensions at ruff-shim / ty-shim (`ruff.path`, `ty.path`),
// the one-time offer, and the undo (VS Code edge over pathSetting.ts).

import * as vscode from "vscode";
import { log } from "./log";
import { TOOLS, scopesWithShim, usesShim, withShim, withoutShim, type ToolSpec } from "./pathSetting";
import type { ShimLocator } from "./shims";

export type Scope = "workspace" | "user";

/** Optional argument of the commands, for scripts and tests: skips the scope prompt. */
export interface ScopeArg {
  scope?: Scope;
}

export interface WriteResult {
  setting: string;
  scope: Scope | "workspaceFolder";
  value: string[] | undefined;
}

function target(scope: Scope): vscode.ConfigurationTarget {
  return scope === "workspace" ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
}

async function pickScope(tool: ToolSpec, verb: string): Promise<Scope | undefined> {
  const items: Array<vscode.QuickPickItem & { scope: Scope }> = [];
  if (vscode.workspace.workspaceFolders?.length) {
    items.push({
      label: "This workspace",
      description: vscode.workspace.workspaceFile ? "workspace file" : ".vscode/settings.json",
      scope: "workspace",
    });
  }
  items.push({ label: "User settings", description: "all workspaces", scope: "user" });
  if (items.length === 1) return items[0]?.scope;
  const pick = await vscode.window.showQuickPick(items, { placeHolder: `${verb} ${tool.setting} where?` });
  return pick?.scope;
}

function scopeArg(arg: unknown): Scope | undefined {
  if (typeof arg === "object" && arg !== null) {
    const s = (arg as ScopeArg).scope;
    if (s === "workspace" || s === "user") return s;
  }
  return undefined;
}

function friendlyError(tool: ToolSpec, e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  if (/not a registered configuration/i.test(text)) {
    return `${tool.setting} is not a known setting: install or enable the ${tool.displayName} extension (${tool.extensionId}) first. (${text})`;
  }
  return text;
}

export async function useShim(tool: ToolSpec, shims: ShimLocator, arg?: unknown): Promise<WriteResult | undefined> {
  const shimPath = shims.path(tool.shim);
  if (!shimPath) {
    await shims.reportMissing(tool.shim, true);
    return undefined;
  }
  const scope = scopeArg(arg) ?? (await pickScope(tool, "Set"));
  if (!scope) return undefined;
  const [section, key] = tool.setting.split(".") as [string, string];
  const cfg = vscode.workspace.getConfiguration(section);
  const inspected = cfg.inspect<unknown>(key);
  const current = scope === "workspace" ? inspected?.workspaceValue : inspected?.globalValue;
  const value = withShim(current, shimPath, tool.shim);
  try {
    await cfg.update(key, value, target(scope));
  } catch (e) {
    const msg = friendlyError(tool, e);
    log(`setting ${tool.setting}: ${msg}`);
    void vscode.window.showErrorMessage(`LSP Shim: ${msg}`);
    return undefined;
  }
  log(`${tool.setting} (${scope}) = ${JSON.stringify(value)}`);
  if (!vscode.extensions.getExtension(tool.extensionId)) {
    void vscode.window.showInformationMessage(
      `LSP Shim: ${tool.setting} now starts with ${shimPath}; it takes effect once the ${tool.displayName} extension (${tool.extensionId}) is installed.`,
    );
  } else {
    void vscode.window.showInformationMessage(
      `LSP Shim: the ${tool.displayName} extension now runs ${tool.shim} (${scope === "workspace" ? "this workspace" : "user settings"}).`,
    );
  }
  return { setting: tool.setting, scope, value };
}

export async function undoShim(tool: ToolSpec, arg?: unknown): Promise<WriteResult[]> {
  const [section, key] = tool.setting.split(".") as [string, string];
  const only = scopeArg(arg);
  const results: WriteResult[] = [];
  const cfg = vscode.workspace.getConfiguration(section);
  const inspected = cfg.inspect<unknown>(key);
  const scopes = scopesWithShim({ workspace: inspected?.workspaceValue, user: inspected?.globalValue }, tool.shim);
  try {
    for (const s of scopes) {
      const scope: Scope = s === "workspace" ? "workspace" : "user";
      if (only && only !== scope) continue;
      const value = withoutShim(s === "workspace" ? inspected?.workspaceValue : inspected?.globalValue, tool.shim);
      await cfg.update(key, value, target(scope));
      results.push({ setting: tool.setting, scope, value });
    }
    // Multi-root: folder-level values.
    if (!only || only === "workspace") {
      for (const folder of vscode.workspace.workspaceFolders ?? []) {
        const fcfg = vscode.workspace.getConfiguration(section, folder.uri);
        const fv = fcfg.inspect<unknown>(key)?.workspaceFolderValue;
        if (scopesWithShim({ workspaceFolder: fv }, tool.shim).length) {
          const value = withoutShim(fv, tool.shim);
          await fcfg.update(key, value, vscode.ConfigurationTarget.WorkspaceFolder);
          results.push({ setting: tool.setting, scope: "workspaceFolder", value });
        }
      }
    }
  } catch (e) {
    const msg = friendlyError(tool, e);
    log(`restoring ${tool.setting}: ${msg}`);
    void vscode.window.showErrorMessage(`LSP Shim: ${msg}`);
    return results;
  }
  for (const r of results) log(`${tool.setting} (${r.scope}) = ${JSON.stringify(r.value ?? null)}`);
  void vscode.window.showInformationMessage(
    results.length
      ? `LSP Shim: ${tool.setting} no longer points at ${tool.shim}.`
      : `LSP Shim: ${tool.setting} did not point at ${tool.shim}; nothing to undo.`,
  );
  return results;
}

/** Offer, once per tool (remembered in globalState), to point the official extension at the shim. */
export async function maybeOffer(context: vscode.ExtensionContext, shims: ShimLocator): Promise<void> {
  if (!vscode.workspace.getConfiguration("lspShim").get<boolean>("offerToConfigure", true)) return;
  for (const tool of Object.values(TOOLS)) {
    const stateKey = `offered.${tool.tool}`;
    if (context.globalState.get<boolean>(stateKey)) continue;
    if (!vscode.extensions.getExtension(tool.extensionId)) continue;
    const current = vscode.workspace.getConfiguration().get<unknown>(tool.setting);
    if (usesShim(current, tool.shim)) continue;
    if (!shims.path(tool.shim)) continue;
    await context.globalState.update(stateKey, true);
    log(`offering (once) to point ${tool.setting} at ${tool.shim}`);
    const ws = "Yes, this workspace";
    const user = "Yes, all workspaces";
    const never = "No";
    void vscode.window
      .showInformationMessage(
        `LSP Shim: run the ${tool.displayName} extension's server through ${tool.shim}, so upgrading or removing ${tool.tool} is never blocked by a running server (Windows)? This sets ${tool.setting}; "LSP Shim: Stop using lsp-shim" undoes it.`,
        ws,
        user,
        never,
      )
      .then(async (pick) => {
        if (pick === ws) await useShim(tool, shims, { scope: "workspace" });
        else if (pick === user) await useShim(tool, shims, { scope: "user" });
      });
  }
}
