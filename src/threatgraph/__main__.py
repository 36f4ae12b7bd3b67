"""`python -m threatgraph` runs the same CLI as the console script."""

from threatgraph.cli import run

run()
