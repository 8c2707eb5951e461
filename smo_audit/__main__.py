"""`python -m smo_audit`: the command line, without the working directory on the import path.

`python -m` puts the working directory first on `sys.path`, so a `json.py`, `html.py` or
`yaml.py` at the root of the folder the audit is run from (a repository's checkout, a build
folder) would be imported, and run, in place of the module the audit needs, and the audit would
end in that module's error or exit code. The entry is dropped before anything else is imported,
as pip's own `__main__` does. runpy's own imports come before this file, so the GitHub Action
runs `python -P -m smo_audit` (Python 3.11+: the entry is never added); the `smo-audit` command
never has it (its `sys.path[0]` is its own bin folder), and the child processes (page workers'
fork server, folder server, the local Dask cluster's workers, Dask shards) start without it
(smo_audit/safe_path.py, `-P`).
"""

import os
import sys

# Before any other import (os and sys are loaded at start-up already).
try:
    _here = os.getcwd()  # noqa: PTH109 -- pathlib is not imported yet, and must not come from here
except OSError:  # the working directory was removed: nothing can be imported from it
    _here = ""
if sys.path and sys.path[0] in ("", _here):
    del sys.path[0]

from smo_audit.cli import main  # after the import path is made safe

main()
