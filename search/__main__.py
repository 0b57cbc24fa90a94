"""Run the docsearch command as `python -m docsearch.search`."""

from .cli import main

main()
