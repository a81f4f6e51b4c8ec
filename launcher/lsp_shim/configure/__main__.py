"""`python -m lsp_shim.configure EDITOR ...`, the same as `lsp-shim configure EDITOR ...`."""

import sys

from . import main

sys.exit(main())
