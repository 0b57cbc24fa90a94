"""Run the benchmark: ``python -m bench DATASET [options]``."""

from .run import main

main()
