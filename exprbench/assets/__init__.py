"""Checksummed model weights and sample media: ``asset_path(name)`` returns a verified local file.

See ``registry.py`` for the entry format, ``catalog.py`` for the entries and ``store.py`` for the cache.
"""

from exprbench.assets import catalog as _catalog  # noqa: F401  (registers the entries)
from exprbench.assets.registry import Asset, all_assets, get_asset, register_asset
from exprbench.assets.store import (
           cache_path,
           expected_digest,
           fetch,
           home,
           is_cached,
           verified_path,
)

asset_path = fetch  # the name most callers want: "give me a verified local path for this asset"

__all__ = ["Asset", "all_assets", "asset_path", "cache_path", "expected_digest", "fetch", "get_asset", "home",
           "is_cached", "register_asset", "verified_path"]
