// The "LSP Shim" output channel: the shim's stderr (the language clients pipe each server
// process's stderr here) and what the extension itself did.

import * as vscode from "vscode";

let channel: vscode.OutputChannel | undefined;

export function outputChannel(): vscode.OutputChannel {
  if (!channel) channel = vscode.window.createOutputChannel("LSP Shim");
  return channel;
}

export function log(message: string): void {
  const stamp = new Date().toISOString().replace("T", " ").replace(/\..*$/, "");
  outputChannel().appendLine(`[${stamp}] ${message}`);
}

/** Copy a CLI run's stderr (the shim logs there) into the channel, prefixed. */
export function logStderr(what: string, stderr: string): void {
  const text = stderr.trimEnd();
  if (text) outputChannel().appendLine(text.split(/\r?\n/).map((l) => `  ${what}: ${l}`).join("\n"));
}

export function disposeLog(): void {
  channel?.dispose();
  channel = undefined;
}
