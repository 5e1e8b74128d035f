"""The parts of ``exprbench eval``, one module per job; ``exprbench.evaluate`` runs them.

- ``options``: what a run is asked to compute (``EvalOptions``) and what one item gave (``ItemOutcome``).
- ``instances``: one metric object per process and device, so network weights load once.
- ``item_faces``: finding and pairing the faces of an item (generated, driving or ground truth, portrait).
- ``face_metrics``: the face metrics of each face, dispatched from the registry by what they consume.
- ``frames``: the pixel metrics (paired) and set-metric features, streamed in aligned chunks.
- ``feature_cache``: reference-video features by content hash, shared by every method scored.
- ``item``: scoring one item from the above.
- ``summary``: per split and mode, the pooled numbers written to summary.json.
- ``provenance``: what config.json records (versions, assets, options, protocol).
- ``outputs``: writing per_item.csv and summary.json; ``schema``: checking them before they are read.
- ``resume``: scored items kept on disk, so a killed run continues where it stopped.
"""
