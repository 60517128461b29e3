"""`python -m dsar`: the `dsar` command, for when its script is not on the path."""

from dsar.cli import main

main()
