"""On-disk cache of ``analyze_video`` results.

The key is a sha256 over: the video's content hash (not its path or mtime, so a copied or renamed
file still hits and an edited one misses), the analyser version, the analysis parameters, and the
sha256s of the model files used. Entries are ``.npz`` files (arrays) with the metadata as JSON,
written to a temporary file in the same directory and renamed, so a crash never leaves a truncated
entry under a valid key. An unreadable entry is treated as a miss and overwritten.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from exprbench.assets import expected_digest, get_asset, home
from exprbench.files import atomic_path, sha256_file

log = logging.getLogger(__name__)

_ARRAYS = ("boxes", "landmarks", "blendshapes", "pose", "gaze", "identity")
_content_hashes: dict[tuple[str, int, int], str] = {}


def cache_dir() -> Path:
    return home() / "cache" / "faces"


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes, memoised per (path, size, mtime) within a process."""
    stat = path.stat()
    memo = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if memo not in _content_hashes:
        _content_hashes[memo] = sha256_file(path)
    return _content_hashes[memo]


def _asset_digests(identity: bool) -> dict[str, str | None]:
    names = ["face_landmarker"] + (["dlib_shape_predictor_5", "dlib_face_recognition"] if identity else [])
    return {name: expected_digest(get_asset(name)) for name in names}


def cache_key(path: Path, version: str, params: dict, identity: bool) -> str:
    material = {"content": content_hash(path), "version": version, "params": params,
                "assets": _asset_digests(identity)}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def entry_path(key: str) -> Path:
    return cache_dir() / f"{key}.npz"


def load(key: str):
    from exprbench.faces.result import FaceTracks

    path = entry_path(key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {name: data[name] for name in _ARRAYS}
        return FaceTracks(n_frames=meta["n_frames"], fps=meta["fps"], width=meta["width"], height=meta["height"],
                          track_ids=meta["track_ids"], **arrays, **FaceTracks._from_meta(meta))
    # any damage: truncated or zero-byte (EOFError), not a zip (BadZipFile), a missing array or key, bad JSON,
    # or metadata of the wrong shape. A cache is never a reason to fail: recompute and overwrite.
    except Exception as exc:  # noqa: BLE001
        log.warning("%s: unreadable face-analysis cache entry (%s: %s); recomputing", path, type(exc).__name__, exc)
        return None


def store(key: str, tracks) -> Path:
    path = entry_path(key)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, meta=np.array(json.dumps(tracks._meta())),
                 **{name: getattr(tracks, name) for name in _ARRAYS})
    return path


def cached(path: Path, version: str, params: dict, identity: bool, use_cache: bool, compute):  # noqa: ANN001, ANN201
    """Return the cached analysis of ``path`` for these parameters, or ``compute()`` it and store it."""
    key = cache_key(path, version, params, identity) if use_cache else None
    if key is not None:
        hit = load(key)
        if hit is not None:
            return hit
    result = compute()
    if key is not None:
        store(key, result)
    return result
