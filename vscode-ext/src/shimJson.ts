// Parsing `lsp-shim ps --json` and `lsp-shim locks --json`, and turning sessions into text for
// the status bar. Pure: no `vscode` import.

export interface Session {
  pid: number;
  createTime?: number;
  server: string;
  version?: string;
  /** The installed executable the copy was made from. */
  source?: string;
  /** Where the private copy runs from. */
  copy?: string;
  command: string[];
  serverPid?: number;
  parentPid?: number;
  editorPid?: number;
  workspace?: string;
  /** As the shim reported it (ISO text or seconds since the epoch). */
  started?: string | number;
}

export interface LockHolder {
  pid: number;
  name: string;
  how: string[];
}

export interface LockReport {
  path: string;
  holders: LockHolder[];
}

export class ShimJsonError extends Error {}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const snippet = text.trim().slice(0, 120);
    throw new ShimJsonError(`${what}: not JSON (${(e as Error).message}): ${snippet || "<empty>"}`);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isFinite(v) ? v : undefined;
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function commandList(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((x) => String(x));
  if (typeof v === "string" && v) return [v];
  return [];
}

/** Parse `lsp-shim ps --json`. Entries without a pid are dropped; unknown keys are ignored. */
export function parseSessions(text: string): Session[] {
  const data = parseJson(text, "lsp-shim ps --json");
  if (!Array.isArray(data)) {
    throw new ShimJsonError("lsp-shim ps --json: expected a JSON list");
  }
  const out: Session[] = [];
  for (const item of data) {
    if (!isObj(item)) continue;
    const pid = num(item.pid);
    if (pid === undefined) continue;
    const command = commandList(item.command);
    const started = typeof item.started === "number" ? item.started : str(item.started);
    out.push({
      pid,
      createTime: num(item.create_time),
      server: str(item.server) ?? baseName(command[0] ?? "") ?? "server",
      version: str(item.version),
      source: str(item.source),
      copy: str(item.copy),
      command,
      serverPid: num(item.server_pid),
      parentPid: num(item.parent_pid),
      editorPid: num(item.editor_pid),
      workspace: str(item.workspace),
      started,
    });
  }
  return out;
}

/** Parse `lsp-shim locks --json PATH…`. */
export function parseLocks(text: string): LockReport[] {
  const data = parseJson(text, "lsp-shim locks --json");
  if (!Array.isArray(data)) {
    throw new ShimJsonError("lsp-shim locks --json: expected a JSON list");
  }
  return data.filter(isObj).map((entry) => ({
    path: str(entry.path) ?? "?",
    holders: (Array.isArray(entry.holders) ? entry.holders : []).filter(isObj).map((h) => ({
      pid: num(h.pid) ?? -1,
      name: str(h.name) ?? "?",
      how: Array.isArray(h.how) ? h.how.map((x) => String(x)) : typeof h.how === "string" ? [h.how] : [],
    })),
  }));
}

function baseName(p: string): string {
  const parts = p.split(/[\\/]/);
  return parts[parts.length - 1] ?? p;
}

function samePath(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/[\\/]+$/, "").replace(/\\/g, "/");
  const [x, y] = [norm(a), norm(b)];
  return x === y || x.toLowerCase() === y.toLowerCase();
}

function within(child: string, parent: string): boolean {
  const norm = (s: string) => s.replace(/\\/g, "/").replace(/\/+$/, "").toLowerCase();
  const c = norm(child);
  const p = norm(parent);
  return c === p || c.startsWith(p + "/");
}

/**
 * The sessions that belong to this window: started by this extension host (the built-in client
 * and the official extensions both spawn the shim from it) or attributed to it by the shim. A
 * session that names no parent/editor pid at all counts when it serves one of the window's
 * folders.
 */
export function sessionsForWindow(sessions: Session[], hostPid: number, folders: string[]): Session[] {
  return sessions.filter((s) => {
    if (s.parentPid === hostPid || s.editorPid === hostPid) return true;
    if (s.parentPid !== undefined || s.editorPid !== undefined) return false;
    const ws = s.workspace;
    return ws !== undefined && folders.some((f) => samePath(ws, f) || within(ws, f));
  });
}

/** One-line label: `ruff 0.17.1`. */
export function sessionLabel(s: Session): string {
  return s.version ? `${s.server} ${s.version}` : s.server;
}

/** Details: where the copy runs from, what it was copied from, pids. */
export function sessionDetail(s: Session): string {
  const parts: string[] = [];
  parts.push(s.copy ? `runs from ${s.copy}` : "copy location unknown");
  if (s.source) parts.push(`copied from ${s.source}`);
  parts.push(`shim pid ${s.pid}` + (s.serverPid !== undefined ? `, server pid ${s.serverPid}` : ""));
  return parts.join(" · ");
}

export interface StatusSummary {
  text: string;
  tooltip: string;
}

/** What the status bar item shows for the window's sessions. */
export function statusSummary(mine: Session[], all: Session[]): StatusSummary {
  const icon = "$(shield)";
  let text: string;
  if (mine.length === 0) {
    text = `${icon} shim`;
  } else {
    // "ruff 0.17.1", "ruff 0.17.1, ty 0.0.105", "ruff 0.17.1 ×2"; past two kinds: a count.
    const counts = new Map<string, number>();
    for (const s of mine) counts.set(sessionLabel(s), (counts.get(sessionLabel(s)) ?? 0) + 1);
    text =
      counts.size <= 2
        ? `${icon} ` + [...counts].map(([label, n]) => (n > 1 ? `${label} ×${n}` : label)).join(", ")
        : `${icon} ${mine.length} servers`;
  }
  const lines: string[] = [];
  if (mine.length === 0) {
    lines.push("lsp-shim: no server of this window runs through the shim.");
  } else {
    lines.push("Servers of this window running through lsp-shim:");
    for (const s of mine) {
      lines.push(`• ${sessionLabel(s)} — ${sessionDetail(s)}`);
    }
  }
  const others = all.length - mine.length;
  if (others > 0) lines.push(`(${others} more session${others === 1 ? "" : "s"} on this machine)`);
  lines.push("Click for actions.");
  return { text, tooltip: lines.join("\n") };
}

/** A short human text for a lock report. */
export function describeLocks(reports: LockReport[]): string {
  return reports
    .map((r) =>
      r.holders.length === 0
        ? `${r.path}: held by no process — it can be deleted or upgraded.`
        : `${r.path}: held by ` +
          r.holders.map((h) => `${h.name} (pid ${h.pid}${h.how.length ? `, ${h.how.join("/")}` : ""})`).join(", "),
    )
    .join("\n");
}
