"""Run the docsearch command as `python -m search`."""

from .cli import main

main()
