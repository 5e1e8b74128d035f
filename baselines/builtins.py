"""The adapters shipped with the toolkit, by the name ``exprbench generate --method`` takes.

Why a table here and not ``register_adapter`` calls in each adapter module: an adapter that registers
itself has to import the registry, and the registry has to import it to be filled, which is an import
circle. Here the adapters are plain modules, this table names them, and the registry (``registry.py``)
starts from it.
"""

from __future__ import annotations

from typing import Any

from baselines.adapter import Adapter, AdapterFactory
from baselines.external.methods import (
    FantasyPortraitOfficial,
    FollowYourEmoji,
    HunyuanPortrait,
    LivePortrait,
    SkyReelsA1,
    XPortrait,
)
from baselines.fantasyportrait import FantasyPortraitAdapter
from baselines.static import StaticAdapter
from baselines.warp import WarpAdapter


def _warp(config: dict[str, Any]) -> Adapter:
    return WarpAdapter(strength=config.get("strength", 1.0))


BUILTIN_ADAPTERS: dict[str, AdapterFactory] = {
    "static": lambda _config: StaticAdapter(),
    "warp": _warp,
    "fantasyportrait": FantasyPortraitAdapter,
    **{cls.name: cls for cls in (LivePortrait, SkyReelsA1, HunyuanPortrait, XPortrait, FollowYourEmoji,
                                 FantasyPortraitOfficial)},
}
