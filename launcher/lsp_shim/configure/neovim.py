"""Neovim: Lua that overrides the server command (configured in code, so printed).

Verified against neovim/nvim-lspconfig lsp/ruff.lua (cmd = { 'ruff', 'server' }) and lsp/ty.lua
(cmd = { 'ty', 'server' }); `vim.lsp.config(name, {...})` merges over those defaults (Neovim
0.11+). For older setups the same cmd goes to require('lspconfig').ruff.setup{}.
"""

from __future__ import annotations

from .plan import Context, Plan, Snippet


def lua_string(s: str) -> str:
    # Backslashes matter: a Windows path must survive Lua's escapes.
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def snippet(ruff: str, ty: str) -> str:
    r, t = lua_string(ruff), lua_string(ty)
    return (
        "-- lsp-shim: run ruff and ty from private copies, so upgrades never hit a locked exe.\n"
        "-- Neovim 0.11+ (nvim-lspconfig's lsp/ruff.lua and lsp/ty.lua supply the rest):\n"
        f"vim.lsp.config('ruff', {{ cmd = {{ {r}, 'server' }} }})\n"
        f"vim.lsp.config('ty', {{ cmd = {{ {t}, 'server' }} }})\n"
        "vim.lsp.enable('ruff')  -- and vim.lsp.enable('ty') if you use ty\n"
        "\n"
        "-- Older nvim-lspconfig (require('lspconfig').X.setup):\n"
        f"-- require('lspconfig').ruff.setup({{ cmd = {{ {r}, 'server' }} }})\n"
        f"-- require('lspconfig').ty.setup({{ cmd = {{ {t}, 'server' }} }})\n"
    )


def plan(ctx: Context) -> Plan:
    s = ctx.system
    config = s.environ.get("XDG_CONFIG_HOME") or "~/.config"
    where = r"%LOCALAPPDATA%\nvim\init.lua" if s.windows else f"{config.rstrip('/')}/nvim/init.lua"
    return Snippet(
        text=snippet(ctx.shims.ruff, ctx.shims.ty),
        where=f"Neovim is configured in Lua: add this to {where} (configure never edits it)",
    )
