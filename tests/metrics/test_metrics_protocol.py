"""The versioned protocol table, its JSON and Markdown renderings, and the metric registry."""

from __future__ import annotations

import dataclasses
import json

import pytest

from exprbench.metrics import MetricSpec, all_metrics, get_metric, register_metric
from exprbench.metrics.psnr import PSNR
from exprbench.protocol import (
    PROTOCOL,
    PROTOCOL_VERSION,
    metric_protocol,
    protocol_dict,
    render_markdown,
)


def test_protocol_dict_is_json_and_carries_every_choice() -> None:
    data = json.loads(json.dumps(protocol_dict()))
    assert data["version"] == PROTOCOL_VERSION == "v2"
    assert set(data["metrics"]) == {"fid", "fvd", "psnr", "ssim", "lpips", "lmd", "aed", "apd", "mae", "csim",
                                  "csim_gap", "motion", "aed_abs", "apd_abs", "mae_abs"}
    for name, entry in data["metrics"].items():
        assert entry["key"] == f"{name}@v2"
        assert entry["direction"] in ("lower", "higher") and entry["modes"] and entry["per_video"]
    fvd = data["metrics"]["fvd"]
    assert (fvd["window"], fvd["stride"], fvd["first_frame"], fvd["size"]) == (16, 16, 0, [224, 224])
    assert fvd["min_videos"] == 100 and fvd["value_range"] == [-1.0, 1.0]
    assert data["metrics"]["fid"]["size"] == [299, 299] and data["metrics"]["lpips"]["value_range"] == [-1.0, 1.0]
    assert data["resize"]["method"] == "bicubic" and data["resize"]["antialias"] is True
    assert data["face_region"]["margin"] == 0.25 and data["face_region"]["paired_size"] == [256, 256]
    ssim = data["metrics"]["ssim"]
    assert (ssim["kernel_size"], ssim["sigma"], ssim["gaussian_kernel"]) == (11, 1.5, True)


def test_protocol_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        metric_protocol("fvd").window = 8  # type: ignore[misc]


def test_markdown_page_lists_every_metric_and_setting() -> None:
    page = render_markdown()
    assert page.startswith("# ExprBench scoring protocol v2")
    for entry in PROTOCOL.metrics:
        assert f"`{entry.key}`" in page and entry.definition in page
    assert "**window**: 16" in page and "**margin**: 0.25" in page and "299 x 299" in page


def test_registry_agrees_with_the_protocol() -> None:
    """Every protocol entry has exactly one registered metric (each module registers its own), listed in
    the protocol's order, and a spec's descriptive fields are its protocol entry's."""
    assert [spec.name for spec in all_metrics()] == [entry.name for entry in PROTOCOL.metrics]
    for spec in all_metrics():
        entry = metric_protocol(spec.name)
        assert spec.protocol is entry
        assert (spec.key, spec.direction, spec.modes, spec.needs, spec.unit) == (
            entry.key, entry.direction, entry.modes, entry.needs, entry.unit)
    assert [s.name for s in all_metrics("set")] == ["fid", "fvd"]
    assert [s.name for s in all_metrics("paired")] == ["psnr", "ssim", "lpips"]
    assert all(s.consumes for s in all_metrics("face"))
    assert get_metric("psnr").kind == "paired" and get_metric("psnr").higher_is_better
    assert get_metric("lpips@v2").direction == "lower"
    with pytest.raises(KeyError):
        get_metric("psnr@v0")
    with pytest.raises(KeyError):
        get_metric("nonexistent")


def test_register_metric_validates() -> None:
    before = all_metrics()
    spec = MetricSpec.from_protocol("psnr", "paired", PSNR)
    with pytest.raises(ValueError, match="already registered"):
        register_metric(spec)
    with pytest.raises(ValueError, match="differs from protocol"):
        register_metric(dataclasses.replace(spec, protocol=dataclasses.replace(spec.protocol, modes=("both",))))
    with pytest.raises(ValueError, match="no entry in protocol"):
        register_metric(dataclasses.replace(spec, protocol=dataclasses.replace(spec.protocol, name="psnr2")))
    with pytest.raises(ValueError, match="lowercase"):
        register_metric(dataclasses.replace(spec, protocol=dataclasses.replace(spec.protocol, name="PSNR")))
    with pytest.raises(ValueError, match="kind"):
        register_metric(dataclasses.replace(spec, kind="pixels"))
    lmd = get_metric("lmd")
    with pytest.raises(ValueError, match="must consume"):
        register_metric(dataclasses.replace(lmd, consumes=("wrinkles",)))
    with pytest.raises(ValueError, match="must consume"):
        register_metric(dataclasses.replace(lmd, consumes=()))
    assert all_metrics() == before  # nothing half-registered
