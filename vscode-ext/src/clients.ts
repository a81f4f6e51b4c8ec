// The built-in language clients: Ruff / ty when their official extension is absent, and the
// servers listed in `lspShim.servers`, each started through the shim (VS Code edge).

import * as vscode from "vscode";
import {
  LanguageClient,
  RevealOutputChannelOn,
  State,
  type DocumentSelector,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";
import { TOOLS } from "./pathSetting";
import { log, outputChannel } from "./log";
import { runFile } from "./run";
import {
  buildServerCommand,
  parseServerSettings,
  ruffSpec,
  tySpec,
  wantBuiltin,
  type Launch,
  type ServerSpec,
} from "./serverCommand";
import type { ShimLocator } from "./shims";

interface Running {
  spec: ServerSpec;
  launch: Launch;
  key: string;
  client: LanguageClient;
}

export interface ClientInfo {
  id: string;
  name: string;
  command: string;
  args: string[];
  state: "starting" | "running" | "stopped";
}

export class ClientManager implements vscode.Disposable {
  private running = new Map<string, Running>();
  private syncing: Promise<void> = Promise.resolve();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly shims: ShimLocator) {}

  /** Bring the running clients in line with the settings; serialized. */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.doSync()).catch((e) => log(`sync failed: ${String(e)}`));
    return this.syncing;
  }

  private async desired(): Promise<ServerSpec[]> {
    const cfg = vscode.workspace.getConfiguration("lspShim");
    const specs: ServerSpec[] = [];
    const ruffMode = cfg.get<string>("ruff.builtinClient") ?? "auto";
    if (wantBuiltin(ruffMode, vscode.extensions.getExtension(TOOLS.ruff.extensionId) !== undefined)) {
      if (ruffMode === "on" || (await this.serverWorks("ruff-shim"))) {
        specs.push(ruffSpec(cfg.get("ruff.initializationOptions")));
      }
    }
    const tyMode = cfg.get<string>("ty.builtinClient") ?? "off";
    if (wantBuiltin(tyMode, vscode.extensions.getExtension(TOOLS.ty.extensionId) !== undefined)) {
      if (tyMode === "on" || (await this.serverWorks("ty-shim"))) specs.push(tySpec());
    }
    const { specs: custom, errors } = parseServerSettings(cfg.get("servers"));
    for (const e of errors) {
      log(e);
      void vscode.window.showWarningMessage(`LSP Shim: ${e}`);
    }
    specs.push(...custom);
    return specs;
  }

  /** In "auto" mode start Ruff/ty only when the shim can find the server (`X-shim --version`). */
  private async serverWorks(name: "ruff-shim" | "ty-shim"): Promise<boolean> {
    const exe = this.shims.path(name);
    if (!exe) {
      await this.shims.reportMissing(name);
      return false;
    }
    const r = await runFile(exe, ["--version"], { timeoutMs: 30_000, cwd: folder() });
    if (r.code === 0) {
      log(`${name} --version: ${r.stdout.trim()}`);
      return true;
    }
    log(`${name} --version failed (${r.error ?? `exit ${r.code}`}); not starting the built-in client. ${r.stderr.trim()}`);
    return false;
  }

  private async doSync(): Promise<void> {
    const specs = await this.desired();
    const wanted = new Map<string, { spec: ServerSpec; launch: Launch; key: string }>();
    for (const spec of specs) {
      const built = buildServerCommand(spec, {
        lspShim: this.shims.path("lsp-shim"),
        ruffShim: this.shims.path("ruff-shim"),
        tyShim: this.shims.path("ty-shim"),
      });
      if (!built.ok) {
        await this.shims.reportMissing(built.missing);
        continue;
      }
      wanted.set(spec.id, { spec, launch: built.launch, key: JSON.stringify([spec, built.launch]) });
    }
    for (const [id, r] of [...this.running]) {
      const w = wanted.get(id);
      if (!w || w.key !== r.key) {
        await this.stopOne(id);
      }
    }
    for (const [id, w] of wanted) {
      if (!this.running.has(id)) await this.startOne(w.spec, w.launch, w.key);
    }
    this.changed.fire();
  }

  private async startOne(spec: ServerSpec, launch: Launch, key: string): Promise<void> {
    const cwd = folder();
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      // No `transport`: with TransportKind.stdio the client appends `--stdio`, which
      // `ruff server` rejects. Without it the server simply speaks over stdin/stdout.
      options: { cwd, env: { ...process.env, ...spec.env }, shell: false },
    };
    const clientOptions: LanguageClientOptions = {
      // parseServerSettings guarantees each filter names a language, scheme or pattern.
      documentSelector: spec.documentSelector as DocumentSelector,
      outputChannel: outputChannel(),
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: spec.initializationOptions,
    };
    const client = new LanguageClient(`lspShim.${spec.id}`, spec.name, serverOptions, clientOptions);
    client.onDidChangeState((e) => {
      if (e.newState === State.Stopped) log(`${spec.name} stopped`);
      this.changed.fire();
    });
    this.running.set(spec.id, { spec, launch, key, client });
    log(`starting ${spec.name}: ${[launch.command, ...launch.args].join(" ")} (cwd ${cwd ?? "-"})`);
    try {
      await client.start();
      log(`${spec.name} is running`);
    } catch (e) {
      log(`${spec.name} failed to start: ${String(e)}`);
      void vscode.window.showErrorMessage(`LSP Shim: ${spec.name} failed to start: ${String(e)}`, "Show log").then((p) => {
        if (p) outputChannel().show(true);
      });
    }
  }

  private async stopOne(id: string): Promise<void> {
    const r = this.running.get(id);
    if (!r) return;
    this.running.delete(id);
    log(`stopping ${r.spec.name}`);
    try {
      await r.client.stop(5000);
    } catch (e) {
      log(`stopping ${r.spec.name}: ${String(e)}`);
    }
    await r.client.dispose().catch(() => undefined);
  }

  async restart(id: string): Promise<void> {
    const r = this.running.get(id);
    if (!r) return;
    log(`restarting ${r.spec.name}`);
    try {
      await r.client.restart();
    } catch (e) {
      log(`restart of ${r.spec.name} failed: ${String(e)}`);
      void vscode.window.showErrorMessage(`LSP Shim: restart of ${r.spec.name} failed: ${String(e)}`);
    }
    this.changed.fire();
  }

  list(): ClientInfo[] {
    return [...this.running.values()].map((r) => ({
      id: r.spec.id,
      name: r.spec.name,
      command: r.launch.command,
      args: r.launch.args,
      state: r.client.state === State.Running ? "running" : r.client.state === State.Starting ? "starting" : "stopped",
    }));
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stopOne(id)));
  }

  dispose(): void {
    void this.stopAll();
    this.changed.dispose();
  }
}

function folder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}
