// Merging the shim into (and out of) the official extensions' `ruff.path` / `ty.path`.
// Both settings are string arrays whose first existing entry wins. Pure: no `vscode` import.

/** The official extensions whose binary setting the shim can take over. */
export interface ToolSpec {
  tool: "ruff" | "ty";
  /** The setting: `ruff.path` / `ty.path`. */
  setting: string;
  /** The official extension's id. */
  extensionId: string;
  /** Its restart command, run after the setting changed (the extensions also watch it). */
  restartCommand: string;
  shim: "ruff-shim" | "ty-shim";
  displayName: string;
  /** Suffix of this extension's commands: `lspShim.useShimFor<Suffix>`. */
  commandSuffix: "Ruff" | "Ty";
}

export const TOOLS: Readonly<Record<"ruff" | "ty", ToolSpec>> = {
  ruff: {
    tool: "ruff",
    setting: "ruff.path",
    extensionId: "charliermarsh.ruff",
    restartCommand: "ruff.restart",
    shim: "ruff-shim",
    displayName: "Ruff",
    commandSuffix: "Ruff",
  },
  ty: {
    tool: "ty",
    setting: "ty.path",
    extensionId: "astral-sh.ty",
    restartCommand: "ty.restart",
    shim: "ty-shim",
    displayName: "ty",
    commandSuffix: "Ty",
  },
};

/** Read a `*.path` value as a list of strings (old configs may hold a bare string). */
export function asPathList(value: unknown): string[] {
  if (typeof value === "string") return value ? [value] : [];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string" && v !== "");
  return [];
}

function baseName(p: string): string {
  const parts = p.split(/[\\/]/);
  return parts[parts.length - 1] ?? p;
}

/** True when `entry` names a shim executable (`ruff-shim`, `ruff-shim.exe`, any folder). */
export function isShimEntry(entry: string, shim: string): boolean {
  const b = baseName(entry).toLowerCase();
  return b === shim || b === `${shim}.exe`;
}

/** The value with the shim first: idempotent, keeps the user's other entries as fallbacks. */
export function withShim(current: unknown, shimPath: string, shim: string): string[] {
  const rest = asPathList(current).filter((e) => e !== shimPath && !isShimEntry(e, shim));
  return [shimPath, ...rest];
}

/**
 * The value without any shim entry; `undefined` when nothing is left, so the setting is removed
 * from that scope rather than left as `[]`.
 */
export function withoutShim(current: unknown, shim: string): string[] | undefined {
  const rest = asPathList(current).filter((e) => !isShimEntry(e, shim));
  return rest.length ? rest : undefined;
}

/** True when the effective value already starts with a shim (nothing to offer). */
export function usesShim(current: unknown, shim: string): boolean {
  const list = asPathList(current);
  return list.length > 0 && isShimEntry(list[0] as string, shim);
}

export interface ScopedValues {
  workspaceFolder?: unknown;
  workspace?: unknown;
  user?: unknown;
}

/** The scopes (most specific first) whose value holds a shim entry: what "undo" must touch. */
export function scopesWithShim(values: ScopedValues, shim: string): Array<keyof ScopedValues> {
  const order: Array<keyof ScopedValues> = ["workspaceFolder", "workspace", "user"];
  return order.filter((k) => asPathList(values[k]).some((e) => isShimEntry(e, shim)));
}
