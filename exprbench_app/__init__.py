"""The app layer: what runs the toolkit's packages together (the demo, generation, anchors, validation).

Why a package of its own: ``exprbench`` (benchmark, metrics, eval, leaderboard) is the base that
``baselines`` and ``multiexpr`` build on, so it must not import them; the workflows that need all three
live here, above them. Its commands join the ``exprbench`` CLI through the ``exprbench.commands``
entry-point group (``pyproject.toml``), which is how ``exprbench generate`` works without ``exprbench``
importing this package. ``tests/foundation/test_architecture.py`` keeps the layers apart.
"""
