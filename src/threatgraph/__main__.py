"""`python -m threatgraph` runs the same CLI as the console script."""

import sys

from threatgraph.cli import main

sys.exit(main())
