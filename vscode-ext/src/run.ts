// Running the shim's CLI (`ps`, `locks`, `gc`, `doctor`, `--version`): execFile, never a shell.
// No `vscode` import.

import { execFile } from "child_process";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the process could not be started or timed out. */
  error?: string;
}

export interface RunOptions {
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export function runFile(command: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        timeout: opts.timeoutMs ?? 30_000,
        maxBuffer: 16 * 1024 * 1024,
        windowsHide: true,
        shell: false,
        encoding: "utf8",
      },
      (err, stdout, stderr) => {
        if (!err) {
          resolve({ code: 0, stdout, stderr });
          return;
        }
        const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
        const code = typeof e.code === "number" ? e.code : null;
        let error: string | undefined;
        if (typeof e.code === "string") error = `${command}: ${e.code} (${e.message})`;
        else if (e.killed) error = `${command} ${args.join(" ")}: timed out`;
        resolve({ code, stdout, stderr, error });
      },
    );
  });
}

/** Human text for a failed run. */
export function describeFailure(command: string, args: string[], r: RunResult): string {
  if (r.error) return r.error;
  const tail = (r.stderr.trim() || r.stdout.trim()).split(/\r?\n/).slice(-3).join(" | ");
  return `${command} ${args.join(" ")} exited ${r.code ?? "?"}${tail ? `: ${tail}` : ""}`;
}
