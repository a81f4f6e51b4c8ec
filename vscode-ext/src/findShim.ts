// Finding the shim's executables from plain facts (settings, environment, a file test).
// Pure: no `vscode` import, so it runs under `node --test`.

import * as path from "path";

export type ShimName = "lsp-shim" | "ruff-shim" | "ty-shim";
export const SHIM_NAMES: readonly ShimName[] = ["lsp-shim", "ruff-shim", "ty-shim"];

export interface HostFacts {
  /** `process.platform`. */
  platform: NodeJS.Platform;
  /** The environment of the extension host. */
  env: Readonly<Record<string, string | undefined>>;
  /** The user's home folder. */
  home: string;
  /** True when `p` is an existing regular file (executable on POSIX). */
  isExecutableFile: (p: string) => boolean;
  /** True when `p` is an existing folder. */
  isDirectory: (p: string) => boolean;
}

export interface Searched {
  where: string;
  path: string;
}

export type FindResult =
  | { found: true; path: string; via: "setting" | "PATH" | "uv tool bin dir"; searched: Searched[] }
  | { found: false; searched: Searched[]; settingProblem?: string };

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === "win32" ? path.win32 : path.posix;
}

/** The file name of a shim executable on this platform (`ruff-shim.exe` on Windows). */
export function exeName(name: string, platform: NodeJS.Platform): string {
  return platform === "win32" ? `${name}.exe` : name;
}

/** Expand a leading `~` and `${workspaceFolder}` / `${userHome}` / `${env:NAME}` in a setting. */
export function expandSettingPath(
  value: string,
  facts: Pick<HostFacts, "home" | "env">,
  workspaceFolder?: string,
): string {
  let v = value.trim();
  v = v.replace(/\$\{userHome\}/g, facts.home);
  v = v.replace(/\$\{env:([^}]+)\}/g, (_m, name: string) => facts.env[name] ?? "");
  if (workspaceFolder !== undefined) {
    v = v.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
  }
  if (v === "~") {
    v = facts.home;
  } else if (v.startsWith("~/") || v.startsWith("~\\")) {
    v = facts.home + v.slice(1);
  }
  return v;
}

function envValue(env: HostFacts["env"], name: string, platform: NodeJS.Platform): string | undefined {
  if (platform !== "win32") {
    return env[name];
  }
  // Windows environment names are case-insensitive (`Path`, `PATH`).
  const key = Object.keys(env).find((k) => k.toUpperCase() === name.toUpperCase());
  return key === undefined ? undefined : env[key];
}

/** The folders uv installs tool entry points into, in uv's order of preference. */
export function uvToolBinDirs(facts: HostFacts): string[] {
  const p = pathApi(facts.platform);
  const dirs: string[] = [];
  const uvBin = envValue(facts.env, "UV_TOOL_BIN_DIR", facts.platform);
  if (uvBin) dirs.push(uvBin);
  const xdgBin = envValue(facts.env, "XDG_BIN_HOME", facts.platform);
  if (xdgBin) dirs.push(xdgBin);
  const xdgData = envValue(facts.env, "XDG_DATA_HOME", facts.platform);
  if (xdgData) dirs.push(p.join(xdgData, "..", "bin"));
  dirs.push(p.join(facts.home, ".local", "bin"));
  return dedupe(dirs.map((d) => p.normalize(d)), facts.platform);
}

function dedupe(items: string[], platform: NodeJS.Platform): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const item of items) {
    const key = platform === "win32" ? item.toLowerCase() : item;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(item);
    }
  }
  return out;
}

/**
 * Find `name` (lsp-shim, ruff-shim or ty-shim).
 *
 * Order: the `lspShim.path` setting (a file: that file for `lsp-shim`, its siblings for the
 * others; a folder: the file in it); then `PATH`; then uv's tool bin folder. A setting that
 * points nowhere is reported rather than silently skipped.
 */
export function findShim(
  name: ShimName,
  facts: HostFacts,
  setting: string | undefined,
  workspaceFolder?: string,
): FindResult {
  const p = pathApi(facts.platform);
  const file = exeName(name, facts.platform);
  const searched: Searched[] = [];
  const tryPath = (where: string, candidate: string): boolean => {
    searched.push({ where, path: candidate });
    return facts.isExecutableFile(candidate);
  };

  const configured = setting ? expandSettingPath(setting, facts, workspaceFolder) : "";
  if (configured) {
    let candidate: string;
    if (facts.isDirectory(configured)) {
      candidate = p.join(configured, file);
    } else if (name === "lsp-shim") {
      candidate = configured;
    } else {
      // lspShim.path names lsp-shim itself: ruff-shim/ty-shim are its siblings, with the same
      // suffix (so `lsp-shim.exe` → `ruff-shim.exe`).
      const base = p.basename(configured);
      const suffix = base.toLowerCase().endsWith(".exe") ? ".exe" : "";
      candidate = p.join(p.dirname(configured), name + suffix);
    }
    if (tryPath("lspShim.path", candidate)) {
      return { found: true, path: candidate, via: "setting", searched };
    }
    return {
      found: false,
      searched,
      settingProblem: `lspShim.path is set to "${setting}", but ${candidate} is not an executable file`,
    };
  }

  const pathVar = envValue(facts.env, "PATH", facts.platform) ?? "";
  const delimiter = facts.platform === "win32" ? ";" : ":";
  for (const rawDir of pathVar.split(delimiter)) {
    const dir = rawDir.trim().replace(/^"(.*)"$/, "$1");
    if (!dir) continue;
    const candidate = p.join(dir, file);
    if (tryPath("PATH", candidate)) {
      return { found: true, path: candidate, via: "PATH", searched };
    }
  }
  for (const dir of uvToolBinDirs(facts)) {
    const candidate = p.join(dir, file);
    if (tryPath("uv tool bin dir", candidate)) {
      return { found: true, path: candidate, via: "uv tool bin dir", searched };
    }
  }
  return { found: false, searched };
}

/** What to tell a user whose shim is missing: a sentence and a command to copy. */
export function installHint(
  name: ShimName,
  result: Extract<FindResult, { found: false }>,
  platform: NodeJS.Platform,
): { message: string; installCommand: string } {
  const installCommand = "uv tool install lsp-shim";
  const where = dedupe(
    result.searched.filter((s) => s.where !== "PATH").map((s) => pathApi(platform).dirname(s.path)),
    platform,
  );
  const looked = ["PATH", ...where].join(", ");
  const problem = result.settingProblem
    ? `${result.settingProblem}.`
    : `${exeName(name, platform)} was not found (looked in ${looked}).`;
  const message =
    `${problem} Install it with \`${installCommand}\` (or \`pipx install lsp-shim\`, or ` +
    `\`pip install lsp-shim\` into a Python environment), then reload the window; ` +
    `if it lives elsewhere, set "lspShim.path" to the lsp-shim executable or its folder.`;
  return { message, installCommand };
}
