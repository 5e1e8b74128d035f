"""The ExprBench scoring protocol, version v1: every choice that changes a number, in one table.

Why one table: FID/FVD/PSNR/... values are only comparable when the feature network, resize filter,
crop, value range, frame windows and reductions are all the same (clean-fid measured FID >= 6 from the
resize implementation alone; random FVD windows change FVD on every run). The paper names none of
these, so this module pins them. The metric code reads its settings from here, ``protocol_dict()``
goes into each run's ``config.json`` and ``render_markdown()`` is the documentation page, so code,
results and docs cannot drift apart. Any change to a value here that changes a score needs a new
``PROTOCOL_VERSION``; result keys carry the version (``fid@v1``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Literal

PROTOCOL_VERSION = "v1"

Direction = Literal["lower", "higher"]
Mode = Literal["self", "cross"]
Need = Literal["ground_truth", "driving", "portrait"]


@dataclass(frozen=True, kw_only=True)
class ResizeRule:
    """How every image is resized (FID/FVD inputs, face regions, size-mismatched generated frames)."""

    method: str = "bicubic"
    antialias: bool = True
    implementation: str = ("torch.nn.functional.interpolate(mode='bicubic', antialias=True, align_corners=False) "
                           "on float32 RGB in [0, 1], per channel")
    equivalent_to: str = ("PIL Image.resize(BICUBIC) on float32 channels, i.e. clean-fid's 'clean' mode "
                          "(measured max abs difference below 1e-4 on [0, 1] images, tested)")
    quantise_after: bool = False
    clamp_to_range: bool = True
    aspect: str = ("not preserved: a frame or region is resized to the target size as a whole, as "
                   "pytorch-fid and clean-fid do; face regions are square, so they keep their aspect")
    why: str = ("a correctly antialiased filter (clean-fid showed aliased resizers shift FID by 6 or more); "
                "no 8-bit quantisation after resizing; clamping removes bicubic overshoot so every input "
                "stays in its declared value range")


@dataclass(frozen=True, kw_only=True)
class FaceRegionRule:
    """The image region of one face, used for per-face metrics of multi-character items."""

    margin: float = 0.25
    definition: str = (
        "Given the face's box (x0, y0, x1, y1) in pixels, the region is the square of side "
        "round((1 + 2 * margin) * max(x1 - x0, y1 - y0)) centred on the box centre, i.e. the box "
        "enlarged by `margin` times its larger side on every side; the side is capped at min(W, H) and "
        "the square is shifted (not padded) to lie inside the frame. Boxes come per frame from the "
        "face's track in the reference video (ground truth in self mode); paired metrics cut the same "
        "region from the generated and the reference frame so their pixels stay aligned. A frame where "
        "the face is not found has no region and scores NaN.")
    paired_size: tuple[int, int] = (256, 256)
    why: str = ("a square region keeps the face's aspect ratio under resizing; the margin keeps hair, "
                "chin and the face outline, which expression and identity errors affect; shifting "
                "instead of padding keeps every pixel real")


@dataclass(frozen=True, kw_only=True)
class FrameRule:
    """Which frames are scored and how generated frames pair with reference frames."""

    fps: float = 25.0
    sampling: str = ("every frame of each video, frame 0 included (in self mode frame 0 is the portrait); "
                     "videos are decoded once with exprbench.video, never re-encoded before scoring")
    alignment: str = ("generated frame i is paired with reference (ground-truth or driving) frame i; the "
                      "benchmark requires equal frame counts, and when --allow-short admits a shorter "
                      "generated video its frames pair with the reference's first frames")
    colour: str = "RGB as decoded (8-bit), divided by 255 to [0, 1] in float32"
    size_mismatch: str = ("a generated frame whose size differs from the reference frame is resized to "
                          "the reference size with the protocol's resize rule before paired metrics")


@dataclass(frozen=True, kw_only=True)
class MetricProtocol:
    """What one metric measures and how it is reduced. Subclasses add the metric's numeric settings."""

    name: str
    title: str
    direction: Direction
    modes: tuple[Mode, ...]
    needs: tuple[Need, ...]
    unit: str
    extractor: str
    inputs: str
    definition: str
    per_frame: str
    per_video: str
    per_split: str

    @property
    def key(self) -> str:
        """The result key, e.g. ``fid@v1``: the number is only defined together with its protocol."""
        return f"{self.name}@{PROTOCOL_VERSION}"


@dataclass(frozen=True, kw_only=True)
class FidProtocol(MetricProtocol):
    size: tuple[int, int] = (299, 299)
    value_range: tuple[float, float] = (0.0, 1.0)
    feature_dim: int = 2048
    statistics: str = ("streaming float64 mean and covariance (pairwise merging of per-batch moments); "
                       "covariance normalised by n - 1")


@dataclass(frozen=True, kw_only=True)
class FvdProtocol(MetricProtocol):
    size: tuple[int, int] = (224, 224)
    value_range: tuple[float, float] = (-1.0, 1.0)
    window: int = 16
    stride: int = 16
    first_frame: int = 0
    tail: str = "dropped: a last window shorter than `window` frames is not scored"
    detector_call: str = "detector(videos, rescale=False, resize=False, return_features=True)"
    min_videos: int = 100
    min_videos_why: str = ("below about 100 videos FVD varies with the sample more than between "
                           "methods (common_metrics_on_video_quality#26 recommends >= 256; the paper's "
                           "single split has 100 driving videos); fewer windows than the feature "
                           "dimension also makes the covariance rank-deficient, which is warned too")
    statistics: str = "streaming float64 mean and covariance over windows, covariance normalised by n - 1"


@dataclass(frozen=True, kw_only=True)
class PsnrProtocol(MetricProtocol):
    value_range: tuple[float, float] = (0.0, 1.0)
    data_range: float = 1.0
    averaging_cap_db: float = 100.0


@dataclass(frozen=True, kw_only=True)
class SsimProtocol(MetricProtocol):
    value_range: tuple[float, float] = (0.0, 1.0)
    data_range: float = 1.0
    gaussian_kernel: bool = True
    kernel_size: int = 11
    sigma: float = 1.5
    k1: float = 0.01
    k2: float = 0.03


@dataclass(frozen=True, kw_only=True)
class LpipsProtocol(MetricProtocol):
    value_range: tuple[float, float] = (-1.0, 1.0)
    net: str = "alex"
    lpips_version: str = "0.1"


_PAIRED_FRAMES = ("full frame at the reference frame's native size for single items; for multi items "
                  "the face region resized to the face-region paired size (256x256)")
_MEAN_VIDEO = "mean over the video's frames (frames scored NaN are skipped and lower the coverage)"
_MEAN_SPLIT = "mean over the split's videos (per face for multi items); NaN skipped and counted in coverage"

_METRICS: tuple[MetricProtocol, ...] = (
    FidProtocol(
        name="fid", title="Frechet Inception Distance", direction="lower", modes=("self",),
        needs=("ground_truth",), unit="squared feature distance (unitless)",
        extractor="pytorch-fid InceptionV3, block 3 (2048-d final average pool), FID weights "
                  "pt_inception-2015-12-05-6726825d.pth (asset fid_inception)",
        inputs="RGB in [0, 1] resized to 299x299 (full frame for single items, each face region for "
               "multi items); the network maps to [-1, 1] internally as pytorch-fid does",
        definition="||mu_g - mu_r||^2 + Tr(S_g + S_r - 2 (S_g S_r)^(1/2)) between the Gaussian fits of "
                   "generated and ground-truth frame features",
        per_frame="a 2048-d feature per frame (per face region for multi items)",
        per_video="none: frames are pooled",
        per_split="one value per split and mode from all frames of all its self-mode videos, "
                  "generated against ground truth"),
    FvdProtocol(
        name="fvd", title="Frechet Video Distance", direction="lower", modes=("self",),
        needs=("ground_truth",), unit="squared feature distance (unitless)",
        extractor="I3D TorchScript detector, StyleGAN-V port of the TF-hub Kinetics-400 I3D "
                  "(asset fvd_i3d), pre-softmax features",
        inputs="(B, 3, 16, 224, 224) float32 RGB in [-1, 1]; frames resized to 224x224 by the protocol "
               "resize before the detector",
        definition="Frechet distance between Gaussian fits of generated and ground-truth window features",
        per_frame="none: frames are grouped into fixed windows",
        per_video="non-overlapping 16-frame windows starting at frame 0 (frames 0-15, 16-31, ...); a "
                  "tail shorter than 16 frames is dropped; one feature per window",
        per_split="one value per split and mode from all windows of all its self-mode videos; a "
                  "warning below min_videos videos"),
    PsnrProtocol(
        name="psnr", title="Peak signal-to-noise ratio", direction="higher", modes=("self",),
        needs=("ground_truth",), unit="dB",
        extractor="torchmetrics.functional.peak_signal_noise_ratio, data_range=1.0, float64",
        inputs="RGB in [0, 1]; " + _PAIRED_FRAMES,
        definition="10 log10(1 / MSE) over all pixels and the three channels of a frame pair",
        per_frame="PSNR of the frame pair; a bit-identical pair gives +inf and is kept as +inf",
        per_video="mean over frames of min(PSNR, 100 dB), except that a video whose frames are all "
                  "bit-identical to the reference scores +inf: a perfect frame counts as better than "
                  "any imperfect one without making the mean infinite, and an identical video is "
                  "reported as exactly that",
        per_split=_MEAN_SPLIT + "; +inf propagates (an identical copy of the ground truth)"),
    SsimProtocol(
        name="ssim", title="Structural similarity", direction="higher", modes=("self",),
        needs=("ground_truth",), unit="unitless, at most 1",
        extractor="torchmetrics.functional.structural_similarity_index_measure: gaussian kernel 11, "
                  "sigma 1.5, K1 0.01, K2 0.03, data_range 1.0",
        inputs="RGB in [0, 1]; " + _PAIRED_FRAMES,
        definition="mean of the SSIM map over the three channels and the valid region: the 5-pixel "
                   "border whose windows would leave the image is cropped, as in Wang et al.'s reference "
                   "and scikit-image (torchmetrics 1.9's own mean includes that reflect-padded border)",
        per_frame="SSIM of the frame pair", per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT),
    LpipsProtocol(
        name="lpips", title="Learned perceptual image patch similarity", direction="lower",
        modes=("self",), needs=("ground_truth",), unit="unitless, >= 0",
        extractor="lpips 0.1.4 LPIPS(net='alex', version='0.1') linear heads with the ImageNet AlexNet "
                  "backbone (asset lpips_alexnet)",
        inputs="RGB scaled to [-1, 1]; " + _PAIRED_FRAMES,
        definition="weighted, spatially averaged distance between unit-normalised AlexNet activations "
                   "(the paper does not report LPIPS: a labelled extra)",
        per_frame="LPIPS of the frame pair", per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT),
    MetricProtocol(
        name="lmd", title="Landmark distance", direction="lower", modes=("self",),
        needs=("ground_truth",), unit="normalised image units",
        extractor="MediaPipe FaceLandmarker v2 (asset face_landmarker), 478 landmarks",
        inputs="the frame (single items) or the face's track (multi items)",
        definition="mean over the 478 landmarks of the Euclidean distance between generated and "
                   "ground-truth landmarks, using MediaPipe's normalised x, y (z ignored)",
        per_frame="that mean for the frame pair; NaN where either face is not found",
        per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT),
    MetricProtocol(
        name="aed", title="Average expression distance", direction="lower", modes=("cross",),
        needs=("driving",), unit="blendshape score units (each in [0, 1])",
        extractor="MediaPipe FaceLandmarker v2 blendshapes (52)",
        inputs="the frame (single items) or the face's track (multi items)",
        definition="mean over the 52 blendshapes of |generated - driving| (L1 averaged, not summed)",
        per_frame="that mean for the frame pair; NaN where either face is not found",
        per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT),
    MetricProtocol(
        name="apd", title="Average pose distance", direction="lower", modes=("cross",),
        needs=("driving",), unit="degrees",
        extractor="MediaPipe FaceLandmarker v2 facial transformation matrix -> yaw, pitch, roll",
        inputs="the frame (single items) or the face's track (multi items)",
        definition="mean over yaw, pitch and roll of the absolute difference between generated and "
                   "driving angles, in degrees, each difference wrapped to [-180, 180)",
        per_frame="that mean for the frame pair; NaN where either face is not found",
        per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT),
    MetricProtocol(
        name="mae", title="Eye-motion (gaze) angular error", direction="lower", modes=("self", "cross"),
        needs=("driving",), unit="degrees",
        extractor="MediaPipe FaceLandmarker v2 (iris and eye landmarks / eye-look blendshapes)",
        inputs="the frame (single items) or the face's track (multi items); the driving video is the "
               "ground truth in self mode",
        definition="angle in degrees between the generated and the driving combined gaze direction "
                   "(the two eyes' gaze unit vectors averaged and renormalised)",
        per_frame="that angle for the frame pair; NaN where either face or gaze is not found",
        per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT),
    MetricProtocol(
        name="csim", title="Identity cosine similarity", direction="higher", modes=("self", "cross"),
        needs=("portrait",), unit="cosine similarity in [-1, 1]",
        extractor="dlib ResNet face recognition (asset dlib_face_recognition), 128-d embedding of the "
                  "5-point-aligned face chip",
        inputs="the portrait's face and the generated frame's face (the matched face for multi items)",
        definition="cosine similarity between the portrait face's embedding and the generated frame "
                   "face's embedding (the paper does not report CSIM: a labelled extra)",
        per_frame="that similarity; NaN where the generated face is not found",
        per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT),
)


@dataclass(frozen=True)
class FaceAnalysisRule:
    """How faces are found and paired before the face metrics (LMD, AED, APD, MAE, CSIM)."""

    analyser: str = "exprbench.faces (MediaPipe FaceLandmarker v2, every frame, VIDEO mode); analyser version faces-1"
    identity_every: int = 5
    identity_sampling: str = ("dlib embeddings on every identity_every-th frame a generated face is present; "
                              "CSIM averages those frames")
    single_items: str = ("the generated character is the track present in the most frames (a method may move "
                         "the head anywhere); the driving face is likewise the driving video's main track")
    multi_items: str = ("generated tracks are paired with the portrait's faces by box position and IoU "
                        "(Hungarian assignment; normalised centre distance at most 0.25, else unmatched); "
                        "multi-person driving videos pair by position with the portrait in self mode and "
                        "left to right in cross mode")


@dataclass(frozen=True, kw_only=True)
class ParityRule:
    """How far a score may differ between devices (CPU vs CUDA) or batch sizes and still be the same score."""

    psnr_abs_db: float = 1e-4
    ssim_abs: float = 1e-5
    lpips_abs: float = 1e-4
    frechet_rel: float = 1e-3
    face_metrics: str = "exact: face analysis (LMD, AED, APD, MAE, CSIM) runs on the CPU whatever --device says"
    arithmetic: str = ("PSNR of 8-bit frames is an exact integer sum; PSNR of float frames and SSIM are float64 "
                       "on every device; LPIPS and the FID/FVD networks run float32 with TF32 off; Frechet "
                       "statistics are float64 on the CPU")
    checked_by: str = ("tests/metrics/test_metrics_parity.py (CPU reference paths and batch sizes; on CUDA "
                       "when present) and benchmarks/gpu_check.py (one benchmark item, CPU vs CUDA)")


@dataclass(frozen=True, kw_only=True)
class Protocol:
    """The whole protocol: shared rules plus one entry per metric."""

    version: str = PROTOCOL_VERSION
    resize: ResizeRule = ResizeRule()
    face_region: FaceRegionRule = FaceRegionRule()
    frames: FrameRule = FrameRule()
    faces: FaceAnalysisRule = FaceAnalysisRule()
    parity: ParityRule = ParityRule()
    nan_policy: str = ("A value that cannot be measured (face not found, too few frames) is NaN, never "
                       "0; means skip NaN and every aggregate carries a coverage figure")
    multi_items: str = ("Faces are associated with the portrait's faces (left to right, then IoU); each "
                        "metric is computed per face in that face's region or track, reported per face "
                        "and averaged over the item's faces; set metrics (FID, FVD) pool the face "
                        "regions of all faces of the split")
    metrics: tuple[MetricProtocol, ...] = _METRICS

    def metric(self, name: str) -> MetricProtocol:
        for entry in self.metrics:
            if entry.name == name:
                return entry
        raise KeyError(f"no metric {name!r} in protocol {self.version}; known: "
                       + ", ".join(m.name for m in self.metrics))


PROTOCOL = Protocol()


def metric_protocol(name: str) -> MetricProtocol:
    """The protocol entry of metric ``name`` (``fid``, ``psnr``, ...)."""
    return PROTOCOL.metric(name)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        out = {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, MetricProtocol):
            out = {"key": value.key, **out}
        return out
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def protocol_dict() -> dict[str, Any]:
    """The protocol as plain JSON types, for ``config.json``; metrics keyed by name."""
    out = _jsonable(PROTOCOL)
    out["metrics"] = {m["name"]: m for m in out["metrics"]}
    json.dumps(out)  # fail here, not in the writer, if a field ever stops being serialisable
    return out


_COMMON_FIELDS = {f.name for f in dataclasses.fields(MetricProtocol)}


def _settings(entry: MetricProtocol) -> list[tuple[str, Any]]:
    return [(f.name, getattr(entry, f.name)) for f in dataclasses.fields(entry) if f.name not in _COMMON_FIELDS]


def _fmt(value: Any) -> str:
    if isinstance(value, tuple):
        return " x ".join(str(v) for v in value) if all(isinstance(v, int) for v in value) else str(list(value))
    return str(value)


def render_markdown() -> str:
    """The protocol documentation page (Markdown), generated from the table above."""
    p = PROTOCOL
    lines = [
        f"# ExprBench scoring protocol {p.version}",
        "",
        ("Generated from `exprbench/protocol.py`; every result key carries the version "
         f"(e.g. `{p.metric('fid').key}`). Numbers from different protocol versions are not comparable."),
        "",
        "## Metrics",
        "",
        "| key | metric | better | modes | needs | unit |",
        "|---|---|---|---|---|---|",
    ]
    for m in p.metrics:
        lines.append(f"| `{m.key}` | {m.title} | {m.direction} | {', '.join(m.modes)} | "
                     f"{', '.join(m.needs)} | {m.unit} |")
    lines += ["", "## Shared rules", "",
              "### Frames", ""]
    lines += [f"- **{f.name}**: {_fmt(getattr(p.frames, f.name))}" for f in dataclasses.fields(p.frames)]
    lines += ["", "### Resizing", ""]
    lines += [f"- **{f.name}**: {_fmt(getattr(p.resize, f.name))}" for f in dataclasses.fields(p.resize)]
    lines += ["", "### Face regions (multi-character items)", ""]
    lines += [f"- **{f.name}**: {_fmt(getattr(p.face_region, f.name))}"
              for f in dataclasses.fields(p.face_region)]
    lines += ["", "### Face analysis and pairing", ""]
    lines += [f"- **{f.name}**: {_fmt(getattr(p.faces, f.name))}" for f in dataclasses.fields(p.faces)]
    lines += ["", "### Device parity (CPU vs CUDA, any batch size)", ""]
    lines += [f"- **{f.name}**: {_fmt(getattr(p.parity, f.name))}" for f in dataclasses.fields(p.parity)]
    lines += ["", "### Missing values", "", p.nan_policy, "", "### Multi-character items", "", p.multi_items]
    for m in p.metrics:
        lines += ["", f"## {m.title} (`{m.key}`)", "",
                  f"- **extractor**: {m.extractor}",
                  f"- **inputs**: {m.inputs}",
                  f"- **definition**: {m.definition}",
                  f"- **per frame**: {m.per_frame}",
                  f"- **per video**: {m.per_video}",
                  f"- **per split**: {m.per_split}"]
        lines += [f"- **{name}**: {_fmt(value)}" for name, value in _settings(m)]
    return "\n".join(lines) + "\n"
