"""``python -m exprbench``: the same command as ``exprbench``."""

from exprbench.cli.main import main

main()
