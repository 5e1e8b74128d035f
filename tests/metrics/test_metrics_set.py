"""FID/FVD plumbing with STAND-IN networks (the real Inception/I3D weights are web-only), and the
missing-weights path. Real media throughout; the stand-ins are defined and labelled in conftest.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from exprbench.errors import ExprBenchError
from exprbench.metrics import MetricUnavailable, get_metric
from exprbench.metrics.fid import FID, fid_inception_structure, load_fid_inception
from exprbench.metrics.frames import to_unit_tensor
from exprbench.metrics.fvd import FVD, fvd_windows, load_i3d


def _brighter(frames: np.ndarray, delta: float) -> torch.Tensor:
    return (to_unit_tensor(frames) + delta).clamp_(0, 1)


def test_fid_standin_zero_for_same_set_and_grows_with_shift(pexels_frames, standin_frame_network) -> None:
    a, b = pexels_frames[0::2], pexels_frames[1::2]  # 30 and 29 different real frames of one clip
    values = {}
    for name, generated in (("same", a), ("other_frames", b), ("shift_0.1", _brighter(b, 0.1)),
                            ("shift_0.25", _brighter(b, 0.25))):
        metric = FID(network=standin_frame_network, batch_size=8)
        metric.update_reference(a)
        metric.update_generated(generated)
        score = metric.compute()
        assert score.network.startswith("STAND-IN") and score.key == "fid@v2"
        values[name] = score.value
    assert abs(values["same"]) < 1e-6
    assert 0 < values["other_frames"] < values["shift_0.1"] < values["shift_0.25"]


def test_fid_batch_size_independent_and_bit_identical(pexels_frames, standin_frame_network) -> None:
    gen, ref = _brighter(pexels_frames[1::2], 0.05), pexels_frames[0::2]

    def run(batch_size: int) -> float:
        metric = FID(network=standin_frame_network, batch_size=batch_size)
        metric.update_reference(ref)
        for start in range(0, len(gen), 7):  # chunked updates of one video
            metric.add_features("generated", metric.features(gen[start:start + 7]), videos=0)
        return metric.compute().value

    by_one, by_eight = run(1), run(8)
    halves = [FID(network=standin_frame_network, batch_size=8) for _ in range(2)]  # e.g. two worker processes
    halves[0].update_reference(ref)
    halves[0].update_generated(gen[:12])
    halves[1].update_generated(gen[12:])
    halves[0].merge(halves[1])
    assert halves[0].compute().value == pytest.approx(by_eight, rel=1e-5)
    assert halves[0].videos["generated"] == 2
    assert by_one == pytest.approx(by_eight, rel=1e-5)
    assert run(8) == by_eight


def test_fid_warns_on_small_samples(pexels_frames, standin_frame_network) -> None:
    metric = FID(network=standin_frame_network)
    metric.update_reference(pexels_frames[:20])
    metric.update_generated(pexels_frames[20:40])
    score = metric.compute()
    assert score.n_generated == 20 and score.n_reference == 20
    assert any("rank-deficient" in w for w in score.warnings)
    empty = FID(network=standin_frame_network)
    empty.update_reference(pexels_frames[:1])
    assert np.isnan(empty.compute().value)


def test_missing_weights_give_metric_unavailable_with_fetch_command(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EXPRBENCH_HOME", str(tmp_path))
    monkeypatch.setenv("EXPRBENCH_OFFLINE", "1")
    monkeypatch.delenv("EXPRBENCH_ASSET_DIR", raising=False)
    for cls, asset in ((FID, "fid_inception"), (FVD, "fvd_i3d")):
        with pytest.raises(MetricUnavailable) as info:
            cls()
        assert isinstance(info.value, ExprBenchError)
        assert f"exprbench assets fetch {asset}" in str(info.value) and "\n" not in str(info.value)
        assert info.value.key == f"{cls.name}@v2" and info.value.fetch_command == f"exprbench assets fetch {asset}"


def test_fid_inception_structure_loads_a_pytorch_fid_state_dict(tmp_path) -> None:
    """The loader path for the real weights, fed a random state dict of the same structure
    (STAND-IN weights): key names must match pytorch-fid's FID Inception exactly (strict load)."""
    torch.manual_seed(0)
    path = tmp_path / "standin_fid_weights.pth"
    torch.save(fid_inception_structure().state_dict(), path)
    net = load_fid_inception(str(path))
    with torch.inference_mode():
        out = net(torch.rand(2, 3, 299, 299))
    assert out.shape == (2, 2048) and torch.isfinite(out).all()


def test_fvd_windows_are_fixed_non_overlapping_from_frame_zero() -> None:
    assert fvd_windows(125) == [(0, 16), (16, 32), (32, 48), (48, 64), (64, 80), (80, 96), (96, 112)]
    assert fvd_windows(16) == [(0, 16)] and fvd_windows(15) == []


def test_fvd_standin_torchscript_plumbing(pexels_clip, standin_i3d_file) -> None:
    network = load_i3d(str(standin_i3d_file))  # the real loader: torch.jit.load + the StyleGAN-V call
    assert network.dim == 8
    videos = [pexels_clip[i:i + 32] for i in range(0, 96, 32)]  # 3 videos x 2 windows

    def fvd(generated: list) -> tuple[float, tuple[str, ...]]:
        metric = FVD(network=network, batch_size=2)
        for video in videos:
            metric.update_reference(video)
        for video in generated:
            metric.update_generated(video)
        score = metric.compute()
        assert score.n_reference == 6 and score.videos_reference == 3
        return score.value, score.warnings

    same, warnings = fvd(videos)
    assert abs(same) < 1e-6
    assert any("below the 100" in w for w in warnings)
    small, _ = fvd([_brighter(v, 0.1) for v in videos])
    large, _ = fvd([_brighter(v, 0.3) for v in videos])
    assert 0 < small < large
    again, _ = fvd([_brighter(v, 0.3) for v in videos])
    assert again == large


def test_fvd_short_video_contributes_no_window(pexels_clip, standin_i3d_file) -> None:
    metric = FVD(network=load_i3d(str(standin_i3d_file)))
    assert metric.update_generated(pexels_clip[:15]).shape == (0, 8)
    assert any("shorter than 16" in w for w in metric.warnings())


def test_registry_lists_the_set_metrics_from_the_protocol() -> None:
    fid, fvd = get_metric("fid"), get_metric("fvd@v2")
    assert fid.kind == fvd.kind == "set" and fid.factory is FID and fvd.factory is FVD
    assert fid.direction == "lower" and fid.modes == ("self",) and fid.needs == ("ground_truth",)


@pytest.mark.parametrize("chunk", [1, 5, 16, 17, 32])
def test_feature_stream_equals_whole_video_features(pexels_frames, standin_frame_network, standin_i3d_file,
                                                    chunk) -> None:
    """Eval feeds set metrics chunk by chunk (bounded memory); the features must be exactly those of the
    whole video, for any chunk size, because the network sees the same batches (the same bits)."""
    video = np.concatenate([pexels_frames, pexels_frames[:8]])  # 67 frames: 4 FVD windows and a tail
    for metric in (FID(network=standin_frame_network, batch_size=8),
                   FVD(network=load_i3d(str(standin_i3d_file)), batch_size=3)):
        stream = metric.stream()
        for start in range(0, len(video), chunk):
            stream.add(video[start:start + chunk])
        streamed = stream.finish()
        whole = metric.features(video)
        assert streamed.shape == whole.shape and np.array_equal(streamed, whole)
        assert metric.stream().finish().shape == (0, metric.network.dim)  # an empty video has no features
    assert FVD(network=load_i3d(str(standin_i3d_file)), batch_size=3).block_frames() == 48
