// What the built-in clients start, always through the shim. Pure: no `vscode` import.

export interface ShimPaths {
  lspShim?: string;
  ruffShim?: string;
  tyShim?: string;
}

/** A document filter as vscode-languageclient takes it. */
export interface DocFilter {
  language?: string;
  scheme?: string;
  pattern?: string;
}

export interface ServerSpec {
  /** Stable id (`ruff`, `ty`, or `custom:<name>`), also the client id. */
  id: string;
  name: string;
  kind: "ruff" | "ty" | "custom";
  /** For custom servers: the real server command and its args. */
  command?: string;
  args: string[];
  documentSelector: DocFilter[];
  initializationOptions?: unknown;
  env: Record<string, string>;
}

export interface Launch {
  command: string;
  args: string[];
}

export type BuildResult = { ok: true; launch: Launch } | { ok: false; missing: "lsp-shim" | "ruff-shim" | "ty-shim" };

/**
 * The process to spawn (no shell) for a server:
 *   ruff   → `ruff-shim server [args…]`
 *   ty     → `ty-shim server [args…]`
 *   custom → `lsp-shim [--log-file F] -- COMMAND ARGS…`
 */
export function buildServerCommand(spec: ServerSpec, shims: ShimPaths, logFile?: string): BuildResult {
  if (spec.kind === "ruff") {
    if (!shims.ruffShim) return { ok: false, missing: "ruff-shim" };
    return { ok: true, launch: { command: shims.ruffShim, args: ["server", ...spec.args] } };
  }
  if (spec.kind === "ty") {
    if (!shims.tyShim) return { ok: false, missing: "ty-shim" };
    return { ok: true, launch: { command: shims.tyShim, args: ["server", ...spec.args] } };
  }
  if (!shims.lspShim) return { ok: false, missing: "lsp-shim" };
  const args: string[] = [];
  if (logFile) args.push("--log-file", logFile);
  args.push("--", spec.command ?? "", ...spec.args);
  return { ok: true, launch: { command: shims.lspShim, args } };
}

const PYTHON_SELECTOR: DocFilter[] = [
  { language: "python", scheme: "file" },
  { language: "python", scheme: "untitled" },
];

export function ruffSpec(initializationOptions?: unknown): ServerSpec {
  return {
    id: "ruff",
    name: "Ruff (lsp-shim)",
    kind: "ruff",
    args: [],
    documentSelector: PYTHON_SELECTOR,
    initializationOptions: isNonEmptyObject(initializationOptions) ? initializationOptions : undefined,
    env: {},
  };
}

export function tySpec(): ServerSpec {
  return {
    id: "ty",
    name: "ty (lsp-shim)",
    kind: "ty",
    args: [],
    documentSelector: PYTHON_SELECTOR,
    env: {},
  };
}

function isNonEmptyObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length > 0;
}

function parseSelector(raw: unknown): DocFilter[] | string {
  if (typeof raw === "string") raw = [raw];
  if (!Array.isArray(raw) || raw.length === 0) return "documentSelector must be a non-empty list";
  const out: DocFilter[] = [];
  for (const item of raw) {
    if (typeof item === "string" && item) {
      out.push({ language: item });
    } else if (typeof item === "object" && item !== null && !Array.isArray(item)) {
      const f: DocFilter = {};
      const o = item as Record<string, unknown>;
      for (const k of ["language", "scheme", "pattern"] as const) {
        if (typeof o[k] === "string" && o[k]) f[k] = o[k] as string;
      }
      if (Object.keys(f).length === 0) return `document filter ${JSON.stringify(item)} has no language, scheme or pattern`;
      out.push(f);
    } else {
      return `document selector entry ${JSON.stringify(item)} is neither a language id nor a filter`;
    }
  }
  return out;
}

/** Validate the `lspShim.servers` setting. Bad entries are reported, good ones kept. */
export function parseServerSettings(raw: unknown): { specs: ServerSpec[]; errors: string[] } {
  const specs: ServerSpec[] = [];
  const errors: string[] = [];
  if (raw === undefined || raw === null) return { specs, errors };
  if (!Array.isArray(raw)) return { specs, errors: ["lspShim.servers must be a list"] };
  const used = new Set<string>();
  raw.forEach((item, i) => {
    const where = `lspShim.servers[${i}]`;
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      errors.push(`${where}: expected an object`);
      return;
    }
    const o = item as Record<string, unknown>;
    if (typeof o.command !== "string" || !o.command.trim()) {
      errors.push(`${where}: "command" is required`);
      return;
    }
    const args = o.args === undefined ? [] : o.args;
    if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
      errors.push(`${where}: "args" must be a list of strings`);
      return;
    }
    const selector = parseSelector(o.documentSelector);
    if (typeof selector === "string") {
      errors.push(`${where}: ${selector}`);
      return;
    }
    const env: Record<string, string> = {};
    if (o.env !== undefined) {
      if (typeof o.env !== "object" || o.env === null || Array.isArray(o.env)) {
        errors.push(`${where}: "env" must be an object of strings`);
        return;
      }
      for (const [k, v] of Object.entries(o.env as Record<string, unknown>)) {
        if (typeof v !== "string") {
          errors.push(`${where}: env.${k} must be a string`);
          return;
        }
        env[k] = v;
      }
    }
    const command = o.command.trim();
    const name = typeof o.name === "string" && o.name.trim() ? o.name.trim() : command.split(/[\\/]/).pop() ?? command;
    let id = `custom:${name}`;
    for (let n = 2; used.has(id); n++) id = `custom:${name}#${n}`;
    used.add(id);
    specs.push({
      id,
      name: `${name} (lsp-shim)`,
      kind: "custom",
      command,
      args: args as string[],
      documentSelector: selector,
      initializationOptions: o.initializationOptions,
      env,
    });
  });
  return { specs, errors };
}

/** auto/on/off → should the built-in client for an official-extension server run? */
export function wantBuiltin(mode: string, officialExtensionActive: boolean): boolean {
  if (mode === "on") return true;
  if (mode === "off") return false;
  return !officialExtensionActive;
}
