"""Emacs: Elisp for eglot and lsp-mode (configured in code, so printed).

Verified against astral-sh/ruff docs/editors/setup.md (eglot-server-programs entry
(python-mode . ("ruff" "server"))), emacs-lsp/lsp-mode clients/lsp-ruff.el
(lsp-ruff-server-command, default ("ruff" "server")) and clients/lsp-python-ty.el
(lsp-python-ty-clients-server-command, default ("ty" "server")).
"""

from __future__ import annotations

from .plan import Context, Plan, Snippet


def elisp_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def snippet(ruff: str, ty: str) -> str:
    r, t = elisp_string(ruff), elisp_string(ty)
    return (
        ";; lsp-shim: run ruff and ty from private copies, so upgrades never hit a locked exe.\n"
        ";; eglot (one server per mode; use the ty line instead to run ty):\n"
        "(with-eval-after-load 'eglot\n"
        "  (add-to-list 'eglot-server-programs\n"
        f'               \'((python-mode python-ts-mode) . ({r} "server"))))\n'
        f';; \'((python-mode python-ts-mode) . ({t} "server"))\n'
        "\n"
        ";; lsp-mode:\n"
        f'(setq lsp-ruff-server-command \'({r} "server"))\n'
        f'(setq lsp-python-ty-clients-server-command \'({t} "server"))\n'
    )


def plan(ctx: Context) -> Plan:
    return Snippet(
        text=snippet(ctx.shims.ruff, ctx.shims.ty),
        where="Emacs is configured in Elisp: add this to your init file (configure never edits it)",
    )
