"""`python -m eval`: evaluate the service on a question file, compare it with baselines,
or re-score a saved run.

Exit codes: 0 done; 1 the system under test failed (unreachable, no index, an error
on some question); 2 bad input (malformed question file, unknown option value).
"""

from __future__ import annotations

# Importing the command modules registers their commands on the app, in this order
# (the order `--help` lists them in).
from eval import cli_run, cli_compare, cli_bench  # noqa: F401
from eval.cli import app

if __name__ == "__main__":
    app()
