"""``exprbench assets list | fetch | verify``."""

from __future__ import annotations

import click

from exprbench.assets import (
    all_assets,
    cache_path,
    expected_digest,
    fetch,
    get_asset,
    home,
    is_cached,
)
from exprbench.assets.store import check_file
from exprbench.errors import AssetError, ExprBenchError


def _selected(names: tuple[str, ...], fetch_all: bool) -> list:
    if names:
        return [get_asset(n) for n in names]
    return [a for a in all_assets() if fetch_all or "default" in a.groups]


@click.group("assets")
def assets() -> None:
    """Model weights and sample media: list, fetch and verify them (cache: $EXPRBENCH_HOME)."""


@assets.command("list")
def list_assets() -> None:
    """Show every asset: status, size, sha256, licence and sources."""
    click.echo(f"cache: {home() / 'assets'}")
    for a in all_assets():
        status = "cached" if is_cached(a) else "missing"
        digest = a.sha256 or expected_digest(a)
        pin = ("" if a.sha256 else " (pinned locally on first fetch)" if digest
               else f" (prefix {a.sha256_prefix})" if a.sha256_prefix else " (not published upstream)")
        size = f"{a.size / 1e6:.1f} MB" if a.size else "size unknown"
        click.echo(f"{a.name:26s} {status:8s} {','.join(a.groups):8s} {size:>12s}  {a.filename}")
        click.echo(f"    sha256 {digest or '-'}{pin}")
        click.echo(f"    licence {a.licence}")
        for s in a.sources:
            click.echo(f"    from {s.describe()}")


@assets.command("fetch")
@click.argument("names", nargs=-1)
@click.option("--all", "fetch_all", is_flag=True, help="Also try optional and web-only assets (FID, FVD).")
@click.option("--offline", is_flag=True, help="Use only the cache and $EXPRBENCH_ASSET_DIR; fail fast if missing.")
def fetch_assets(names: tuple[str, ...], fetch_all: bool, offline: bool) -> None:
    """Fetch and verify assets (default group, or NAMES)."""
    missing = []
    for a in _selected(names, fetch_all):
        try:
            path = fetch(a.name, offline=offline)
            click.echo(f"ok       {a.name:26s} {path}")
        except AssetError as exc:
            missing.append((a.name, str(exc)))
            click.echo(f"missing  {a.name:26s} {exc}", err=True)
    if missing:
        raise AssetError(f"{len(missing)} asset(s) missing: {', '.join(n for n, _ in missing)}; "
                         f"get them with 'exprbench assets fetch {' '.join(n for n, _ in missing)}' on a "
                         "connected machine, or put the files in $EXPRBENCH_ASSET_DIR")


@assets.command("verify")
@click.argument("names", nargs=-1)
def verify_assets(names: tuple[str, ...]) -> None:
    """Re-hash cached assets against the registry.

    Fails (exit 3) when an asset is corrupt, or missing while needed: a NAME given on the command line,
    or an asset of the default group. Missing optional and web-only assets (FID, FVD weights) are listed
    but do not fail.
    """
    bad, missing = 0, []
    for a in _selected(names, fetch_all=True):
        path = cache_path(a)
        if not path.is_file():
            needed = bool(names) or "default" in a.groups
            if needed:
                missing.append(a.name)
            click.echo(f"missing  {a.name}" + ("" if needed else " (optional)"))
            continue
        try:
            check_file(a, path)
            click.echo(f"ok       {a.name}")
        except ExprBenchError as exc:
            bad += 1
            click.echo(f"BAD      {a.name}: {exc}")
    if bad or missing:
        problems = ([f"{bad} cached asset(s) failed verification (delete them and fetch again)"] if bad else []) + (
            [f"{len(missing)} needed asset(s) missing: {', '.join(missing)} (get them with 'exprbench assets "
             f"fetch{''.join(' ' + n for n in names)}', or put the files in $EXPRBENCH_ASSET_DIR)"] if missing else [])
        raise AssetError("; ".join(problems))
