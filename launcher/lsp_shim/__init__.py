"""lsp-shim: run a language server from a private copy so its installed binary is never held open."""

__version__ = "0.1.0"
