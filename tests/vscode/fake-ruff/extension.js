// Test-only stand-in for charliermarsh.ruff: see README.md.
"use strict";
const vscode = require("vscode");

function activate(context) {
  context.subscriptions.push(vscode.commands.registerCommand("ruff.restart", () => undefined));
}

function deactivate() {}

module.exports = { activate, deactivate };
