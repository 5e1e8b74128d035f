"""The app layer's ``exprbench`` subcommands (``generate``, ``demo``, ``anchors``, ``validate``), loaded by
``exprbench.cli.plugins`` from the ``exprbench.commands`` entry points."""
