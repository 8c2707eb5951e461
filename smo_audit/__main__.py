"""`python -m smo_audit`, as the GitHub Action runs it, in the repository's checkout.

`python -m` puts the working directory first on `sys.path`, so a `json.py`, `html.py` or
`yaml.py` at the root of the folder the audit is run from would be imported (and run) in place of
the module the audit needs, and the audit would end in that module's error, or in its exit code.
The entry is dropped before anything else is imported, as pip's own `__main__` does; the
`smo-audit` command never has it (its `sys.path[0]` is its own bin folder), and the page workers'
fork server leaves it out too (extract/workers.py).
"""

import sys
from pathlib import Path

try:
    _here = str(Path.cwd())
except OSError:  # the working directory was removed: nothing can be imported from it
    _here = ""
if sys.path and sys.path[0] in ("", _here):
    del sys.path[0]

from smo_audit.cli import main  # after the import path is made safe

main()
