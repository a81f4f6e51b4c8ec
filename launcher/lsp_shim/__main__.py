"""`python -m lsp_shim` is `lsp-shim`."""

import sys

from lsp_shim.cli import main

sys.exit(main())
