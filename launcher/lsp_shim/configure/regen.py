"""Regenerate the repository's pycharm-config/ templates from the code configure runs.

    python -m lsp_shim.configure.regen [DIR]    (default: ./pycharm-config)

tests/test_configure.py checks that the committed files equal this output.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .pycharm import render_templates


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "pycharm-config")
    for rel, text in render_templates().items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="\n")
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
