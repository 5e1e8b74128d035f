"""``python -m multiexpr``: the same command as ``multiexpr``."""

from multiexpr.cli import main

main()
