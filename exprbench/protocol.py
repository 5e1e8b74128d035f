"""The ExprBench scoring protocol, version v2: every choice that changes a number, in one table.

Why one table: FID/FVD/PSNR/... values are only comparable when the feature network, resize filter,
crop, value range, frame windows and reductions are all the same (clean-fid measured FID >= 6 from the
resize implementation alone; random FVD windows change FVD on every run). The paper names none of
these, so this module pins them. The metric code reads its settings from here, ``protocol_dict()``
goes into each run's ``config.json`` and ``render_markdown()`` is the documentation page, so code,
results and docs cannot drift apart. Any change to a value here that changes a score needs a new
``PROTOCOL_VERSION``; result keys carry the version (``fid@v2``).

v2 (this table) changes what v1 got wrong in its *verdict*, each change with the measurement that
motivated it (see ``V2_CHANGES``); v1's definitions stay computable as labelled extras
(``aed_abs@v2`` is exactly ``aed@v1``, and likewise ``apd_abs`` and ``mae_abs``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Literal

PROTOCOL_VERSION = "v2"

Direction = Literal["lower", "higher"]
Mode = Literal["self", "cross"]
Need = Literal["ground_truth", "driving", "portrait"]
Anchor = Literal["static", "fixed"]


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
    storage: str = ("benchmark clips (ground truth and driving) are stored losslessly (H.264 RGB, qp 0, "
                    "libx264rgb): decoded frames equal the resampled source frames bit for bit, and a self "
                    "item's portrait equals ground-truth frame 0 bit for bit")
    arithmetic: str = ("frame counts, rates and durations are exact rationals; a rate given as 29.97, 59.94 "
                       "or 23.976 means the NTSC rate n * 1000 / 1001; a clip is long enough for N frames at "
                       "rate r when the last sample time (N - 1) / r lies before its end")
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
    # how the metric enters the leaderboard's score (``RankingRule``)
    ideal: float
    anchor: Anchor = "static"
    worst: float | None = None
    min_span: float = 0.0
    ranked_in: tuple[Mode, ...] | None = None
    relative_in: tuple[Mode, ...] = ()
    extra: str = ""

    @property
    def key(self) -> str:
        """The result key, e.g. ``fid@v2``: the number is only defined together with its protocol."""
        return f"{self.name}@{PROTOCOL_VERSION}"

    @property
    def ranked_modes(self) -> tuple[Mode, ...]:
        """The modes in which the metric counts in the score (a labelled extra counts in none)."""
        if self.extra:
            return ()
        return self.modes if self.ranked_in is None else self.ranked_in


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


@dataclass(frozen=True, kw_only=True)
class MotionProtocol(MetricProtocol):
    min_reference_expression: float = 0.01
    min_reference_pose_deg: float = 0.5
    why_floor: str = ("below these a driver barely moves and the gain is the analyser's noise over its "
                      "noise; the part is then NaN rather than a number that means nothing")
    clip_length: str = ("measured on frozen portraits (the static baseline): at most 0.06 per face on the "
                        "50-frame mini benchmark, but up to 0.63 on 16-frame lossy test clips, where the "
                        "analyser's region-mode jitter can line up with a slow driver by chance; score motion "
                        "on clips of 50 frames or more (the paper's are 125)")


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
                  "generated against ground truth",
        ideal=0.0, min_span=1.0),
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
                  "warning below min_videos videos",
        ideal=0.0, min_span=1.0),
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
        per_split=_MEAN_SPLIT + "; +inf propagates (an identical copy of the ground truth)",
        ideal=58.9, min_span=1.0),
    SsimProtocol(
        name="ssim", title="Structural similarity", direction="higher", modes=("self",),
        needs=("ground_truth",), unit="unitless, at most 1",
        extractor="torchmetrics.functional.structural_similarity_index_measure: gaussian kernel 11, "
                  "sigma 1.5, K1 0.01, K2 0.03, data_range 1.0",
        inputs="RGB in [0, 1]; " + _PAIRED_FRAMES,
        definition="mean of the SSIM map over the three channels and the valid region: the 5-pixel "
                   "border whose windows would leave the image is cropped, as in Wang et al.'s reference "
                   "and scikit-image (torchmetrics 1.9's own mean includes that reflect-padded border)",
        per_frame="SSIM of the frame pair", per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT,
        ideal=1.0, min_span=0.01),
    LpipsProtocol(
        name="lpips", title="Learned perceptual image patch similarity", direction="lower",
        modes=("self",), needs=("ground_truth",), unit="unitless, >= 0",
        extractor="lpips 0.1.4 LPIPS(net='alex', version='0.1') linear heads with the ImageNet AlexNet "
                  "backbone (asset lpips_alexnet)",
        inputs="RGB scaled to [-1, 1]; " + _PAIRED_FRAMES,
        definition="weighted, spatially averaged distance between unit-normalised AlexNet activations "
                   "(the paper does not report LPIPS: a labelled extra)",
        per_frame="LPIPS of the frame pair", per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT,
        ideal=0.0, min_span=0.01),
    MetricProtocol(
        name="lmd", title="Landmark distance", direction="lower", modes=("self",),
        needs=("ground_truth",), unit="normalised image units",
        extractor="MediaPipe FaceLandmarker v2 (asset face_landmarker), 478 landmarks",
        inputs="the frame (single items) or the face's track (multi items)",
        definition="mean over the 478 landmarks of the Euclidean distance between generated and "
                   "ground-truth landmarks, using MediaPipe's normalised x, y (z ignored)",
        per_frame="that mean for the frame pair; NaN where either face is not found",
        per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT, ideal=0.0, min_span=0.001),
    MetricProtocol(
        name="aed", title="Average expression distance (relative motion)", direction="lower", modes=("cross",),
        needs=("driving",), unit="blendshape score units (each in [0, 1])",
        extractor="MediaPipe FaceLandmarker v2 blendshapes (52)",
        inputs="the frame (single items) or the face's track (multi items)",
        definition="mean over the 52 blendshapes of |(g_t - g_ref) - (d_t - d_ref)|: the generated face's "
                   "change of expression since its reference frame against the driving face's change since "
                   "its own (L1 averaged, not summed). The reference frame is the first frame in which both "
                   "faces are found. Why relative: the portrait and the driver are different people with "
                   "different resting expressions; an absolute comparison (aed_abs, v1) scores the "
                   "portrait's own face as an error that no method should remove",
        per_frame="that mean for the frame pair; NaN where either face is not found",
        per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT, ideal=0.0, min_span=0.002, relative_in=("cross",)),
    MetricProtocol(
        name="apd", title="Average pose distance (relative motion)", direction="lower", modes=("cross",),
        needs=("driving",), unit="degrees",
        extractor="MediaPipe FaceLandmarker v2 facial transformation matrix -> yaw, pitch, roll",
        inputs="the frame (single items) or the face's track (multi items)",
        definition="mean over yaw, pitch and roll of |wrap(g_t - g_ref) - wrap(d_t - d_ref)| in degrees: "
                   "head motion since each video's reference frame (the first frame in which both faces are "
                   "found), differences wrapped to [-180, 180). Why relative: on the mini benchmark the "
                   "portrait's head pose differs from the driver's first frame by about 6.5 degrees while "
                   "the driver moves about 1.8 degrees, so the absolute form (apd_abs, v1) scored a perfect "
                   "relative-motion method about 6.5 and doing nothing 6.9; relative, the two separate by 43%",
        per_frame="that mean for the frame pair; NaN where either face is not found",
        per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT, ideal=0.0, min_span=0.2, relative_in=("cross",)),
    MetricProtocol(
        name="mae", title="Eye-motion (gaze) angular error", direction="lower", modes=("self", "cross"),
        needs=("driving",), unit="degrees",
        extractor="MediaPipe FaceLandmarker v2 (iris and eye landmarks / eye-look blendshapes)",
        inputs="the frame (single items) or the face's track (multi items); the driving video is the "
               "ground truth in self mode",
        definition="self: the angle in degrees between the generated and the ground-truth combined gaze "
                   "direction (the two eyes' gaze unit vectors averaged and renormalised). cross: relative "
                   "gaze motion, the Euclidean norm of the difference between the generated and the driving "
                   "change of gaze (yaw, pitch of the gaze direction, degrees) since each video's reference "
                   "frame (the first frame in which both gazes are measured). Why relative in cross mode: two "
                   "people's gaze differs by about 20 degrees at frame 0 on the mini benchmark while the "
                   "driver's gaze moves 8.7 degrees (mae_abs keeps the v1 absolute form). Ranked in self mode "
                   "only: in cross mode it failed 'exprbench validate' on the mini benchmark, the driving video "
                   "lagged by 0/2/4/8 frames (exact truth) ordering at spearman 0.2 and the warp strength "
                   "ladder at 0.6; MediaPipe's gaze noise (about 2 degrees) is as large as a driver's gaze "
                   "motion over a few frames, so it is published, not scored",
        per_frame="that angle for the frame pair; NaN where either face or gaze is not found (eyes closed)",
        per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT, ideal=0.0, min_span=0.5, relative_in=("cross",),
        ranked_in=("self",)),
    MetricProtocol(
        name="csim", title="Identity cosine similarity", direction="higher", modes=("self", "cross"),
        needs=("portrait",), unit="cosine similarity in [-1, 1]",
        extractor="dlib ResNet face recognition (asset dlib_face_recognition), 128-d embedding of the "
                  "5-point-aligned face chip",
        inputs="the portrait's face and the generated frame's face (the matched face for multi items)",
        definition="cosine similarity between the portrait face's embedding and the generated frame "
                   "face's embedding (the paper does not report CSIM: a labelled extra). Never ranked "
                   "without motion: doing nothing keeps the portrait's identity perfectly (static 0.9994 > "
                   "ground truth 0.9825 in single/self), so CSIM alone rewards not moving. Scored against the "
                   "different-person band (dlib cosines of different people sit at 0.81-0.90): 0.90 is "
                   "'another person', 1 is the portrait; ranked in cross mode, shown in self mode where "
                   "csim_gap is ranked",
        per_frame="that similarity; NaN where the generated face is not found",
        per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT, ideal=1.0, anchor="fixed", worst=0.90,
        ranked_in=("cross",)),
    MetricProtocol(
        name="csim_gap", title="Identity gap to the ground truth", direction="lower", modes=("self",),
        needs=("portrait", "ground_truth"), unit="cosine similarity difference, >= 0",
        extractor="as csim, on the generated and on the ground-truth video",
        inputs="the portrait's face, the generated face and the ground-truth face",
        definition="|mean CSIM(generated, portrait) - mean CSIM(ground truth, portrait)|: the ground truth "
                   "is the same person moving, so its own CSIM is what a faithful method should reach; a "
                   "method above it is copying the portrait (not moving), one below it is losing identity. "
                   "Scored against the different-person gap 0.10 (1 - 0.90)",
        per_frame="none: the two videos' means are compared (each over its identity frames)",
        per_video="the absolute difference of the two means; NaN if either face is never embedded",
        per_split=_MEAN_SPLIT, ideal=0.0, anchor="fixed", worst=0.10),
    MotionProtocol(
        name="motion", title="Motion transfer gain", direction="higher", modes=("self", "cross"),
        needs=("driving",), unit="score in [0, 1]",
        extractor="MediaPipe FaceLandmarker v2 blendshapes and head pose",
        inputs="the generated face and the driving face (the ground truth in self mode)",
        definition="for expression (52 blendshapes) and head pose (yaw, pitch, roll, wrapped), the changes "
                   "since the reference frame (the first frame in which both faces are found), g_t generated "
                   "and d_t driving, over the frames where both are found; the transfer gain k = sum <g_t, d_t> "
                   "/ sum <d_t, d_t> (the generated motion projected on the driver's); each part scores "
                   "min(k, 1 / k) for k > 0, else 0 (1: moves as the driver does; 0: does not move, or moves "
                   "unrelated to the driver; exaggerating 2x scores like moving half); motion is the mean of "
                   "the parts. A part whose driver moves less than the floor (mean |d_t|) is not measured. Why "
                   "a projection, not a ratio of magnitudes: the analyser's own jitter on a frozen portrait is "
                   "about 0.01 blendshape units and 0.2-0.5 degrees in region mode, which scored the static "
                   "baseline 0.17-0.37 on multi/cross faces as a ratio; the projection ignores motion the "
                   "driver did not make. Why the metric exists: no v1 metric failed a method that does not "
                   "move; this one is 0 for it",
        per_frame="none: motion is a per-video quantity over the frames where both faces are found",
        per_video="the mean of the expression and pose part scores (NaN when neither is measurable)",
        per_split=_MEAN_SPLIT, ideal=1.0, anchor="fixed", worst=0.0),
    MetricProtocol(
        name="aed_abs", title="Average expression distance, absolute (v1)", direction="lower", modes=("cross",),
        needs=("driving",), unit="blendshape score units (each in [0, 1])",
        extractor="MediaPipe FaceLandmarker v2 blendshapes (52)",
        inputs="the frame (single items) or the face's track (multi items)",
        definition="mean over the 52 blendshapes of |generated - driving|: aed@v1 exactly",
        per_frame="that mean for the frame pair; NaN where either face is not found",
        per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT, ideal=0.0,
        extra="paper parity: the absolute form of protocol v1; not ranked (it scores the portrait's own "
              "resting expression as an error)"),
    MetricProtocol(
        name="apd_abs", title="Average pose distance, absolute (v1)", direction="lower", modes=("cross",),
        needs=("driving",), unit="degrees",
        extractor="MediaPipe FaceLandmarker v2 facial transformation matrix -> yaw, pitch, roll",
        inputs="the frame (single items) or the face's track (multi items)",
        definition="mean over yaw, pitch and roll of |wrap(generated - driving)|: apd@v1 exactly",
        per_frame="that mean for the frame pair; NaN where either face is not found",
        per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT, ideal=0.0,
        extra="paper parity: the absolute form of protocol v1; not ranked (the portrait's own head pose "
              "counts as an error)"),
    MetricProtocol(
        name="mae_abs", title="Gaze angular error, absolute (v1)", direction="lower", modes=("cross",),
        needs=("driving",), unit="degrees",
        extractor="MediaPipe FaceLandmarker v2 (iris and eye landmarks)",
        inputs="the frame (single items) or the face's track (multi items)",
        definition="angle between the generated and the driving combined gaze directions: mae@v1 exactly "
                   "in cross mode",
        per_frame="that angle for the frame pair; NaN where either face or gaze is not found",
        per_video=_MEAN_VIDEO, per_split=_MEAN_SPLIT, ideal=0.0,
        extra="paper parity: the absolute form of protocol v1; not ranked (the portrait's own gaze "
              "counts as an error)"),
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
    max_analysis_pixels: int = 3840 * 2160
    max_frame_pixels: int = 2**27
    frame_budget: str = ("frames of up to max_analysis_pixels (4K UHD) are analysed as decoded; a larger frame is "
                         "downscaled for analysis (area averaging, aspect kept) to that many pixels, its boxes are "
                         "mapped back to the original pixel grid and the factor is recorded as analysis_scale; "
                         "frames above max_frame_pixels (about 134 MP) are refused. Why: MediaPipe resizes every "
                         "input to 192-256 px models, so larger frames add memory, not accuracy")


@dataclass(frozen=True, kw_only=True)
class ParityRule:
    """How far a score may differ between devices (CPU vs CUDA) or batch sizes and still be the same score.

    Every number eval writes has an entry: the four device metrics by their own tolerance, everything
    else (face metrics and all coverage figures) exactly, because it never runs on the device.
    ``tolerance(key)`` gives the (absolute, relative) pair ``exprbench.parity`` checks a key against.
    """

    psnr_abs_db: float = 1e-4
    ssim_abs: float = 1e-5
    lpips_abs: float = 1e-4
    frechet_rel: float = 1e-3
    exact_abs: float = 0.0
    exact: str = ("face metrics (lmd, aed, apd, mae, csim, csim_gap, motion and the *_abs extras), every "
                  "*_coverage figure and the per-face coverage/matched columns: equal on every device, because "
                  "face analysis runs on the CPU whatever --device says and coverage counts frames, not values")
    equal_specials: str = ("NaN matches only NaN and +inf only +inf (a bit-identical frame's PSNR): a value on "
                           "one device and NaN or inf on the other is a parity failure, not a small difference")
    arithmetic: str = ("PSNR of 8-bit frames is an exact integer sum; PSNR of float frames and SSIM are float64 "
                       "on every device; LPIPS and the FID/FVD networks run float32 with TF32 off; Frechet "
                       "statistics are float64 on the CPU")
    checked_by: str = ("exprbench.parity (one item's frames scored on two devices, every emitted key compared): "
                       "tests/metrics/test_metrics_parity.py on the CPU (default batch sizes against batch "
                       "size 1), tests/gpu/test_gpu_parity.py on CUDA, and benchmarks/gpu_check.py (a mini "
                       "benchmark item, CUDA against the CPU reference stored with the wheels)")

    def tolerance(self, key: str) -> tuple[float, float]:
        """(absolute, relative) tolerance of result key ``key`` (``psnr@v2``, ``lmd@v2_coverage``, ``fid``)."""
        name = key.split("@")[0]
        if key.endswith("_coverage") or name not in ("psnr", "ssim", "lpips", "fid", "fvd"):
            return self.exact_abs, 0.0
        if name in ("fid", "fvd"):
            return 0.0, self.frechet_rel
        return {"psnr": self.psnr_abs_db, "ssim": self.ssim_abs, "lpips": self.lpips_abs}[name], 0.0


@dataclass(frozen=True, kw_only=True)
class CoverageRule:
    """How faces that are not found enter the numbers: never as zero, never as a win."""

    per_frame: str = ("a face metric's coverage for one face is the fraction of the frames in which the "
                      "reference (ground truth or driving) face has a value where the generated face has "
                      "one too (pixel metrics: the frames where the ground truth's face region exists; CSIM: "
                      "all frames, the portrait always has an embedding); so a driver whose eyes are closed "
                      "in half the frames does not cost any method gaze coverage. A split's coverage pools "
                      "frames over its faces (frame-weighted): a face found in 45% of its frames counts as "
                      "0.45, not as one covered item")
    min_coverage: float = 0.95
    lost_face: str = ("in the score, the frames a face metric could not measure take the scale's floor: a "
                      "face's normalised value is c * n + (1 - c) * (-1), n its normalised value on the frames "
                      "it kept and c its coverage; so a lost face can only lower a method's standing, in "
                      "proportion to what it lost, without a threshold cliff. Faces below min_coverage are "
                      "flagged (faces_lost) next to the raw value, which is still published. Measured why: "
                      "with v1's mean over found faces, static kept gaze for one face of two in multi/self "
                      "(the portrait's eyes count as closed) and its MAE 1.998 beat warp's 6.75; warp's output "
                      "has eyes detected closed while the driver's are open in up to 70% of some faces' frames, "
                      "which this rule charges to warp's gaze score rather than hiding")


@dataclass(frozen=True, kw_only=True)
class RankingRule:
    """How the leaderboard turns metrics into a verdict that no other method on the board can change."""

    normalisation: str = (
        "per face and metric, n = (v - a) / (ideal - a), clipped to [-1, 1], so the metric's ideal scores 1 "
        "and its anchor a scores 0. The anchor belongs to the benchmark, not to the methods present: for "
        "anchor 'static' it is the static baseline's value on the same item and face (doing nothing "
        "scores 0), computed once by 'exprbench anchors' and stored in the benchmark folder with the "
        "protocol version; for anchor 'fixed' it is the metric's fixed worst value (motion 0: does not "
        "move; csim 0.90: the different-person band). A face whose anchor is missing or within min_span "
        "of the ideal does not discriminate methods and is left out for every method alike. PSNR's ideal is "
        "58.9 dB, the PSNR of 8-bit rounding noise alone (48.13 + 10 log10 12); +inf (a bit-identical copy) "
        "clips to 1")
    clip: tuple[float, float] = (-1.0, 1.0)
    score: str = ("the mean over the mode's ranked metrics of the split's mean normalised value (faces "
                  "pooled); set metrics (FID, FVD) are normalised once per split against the anchor's split "
                  "value. Adding or removing another method changes no score")
    comparable: str = ("rows are ranked together only if they scored the same benchmark (its content hash), "
                       "with the same protocol version, every item of the split and mode, and the same set of "
                       "ranked metrics; other rows are listed apart with the reason")
    bootstrap_resamples: int = 2000
    bootstrap_seed: int = 0
    confidence: float = 0.95
    min_items_for_ci: int = 3
    significance: str = ("per metric, a 95% percentile interval of the split mean by bootstrap over items; "
                         "between two methods, the paired bootstrap (the same resampled items for both) of the "
                         "score difference. A method's rank is 1 + the number of methods significantly better "
                         "than it (their paired interval excludes 0), so methods whose interval contains 0 can "
                         "share a rank (a tie) and a third method never changes whether two others tie; with "
                         "fewer than min_items_for_ci items no interval is computed and the order is "
                         "the point estimate's, labelled untested")


V2_CHANGES: tuple[tuple[str, str], ...] = (
    ("cross-mode AED, APD and gaze MAE on relative motion",
     "absolute angles compared two different people: a perfect relative-motion method scored APD 6.5 and "
     "doing nothing 6.9 on the mini benchmark; relative to each video's reference frame the gap is 43%"),
    ("motion@v2, a motion transfer gain",
     "no v1 metric failed a method that does not move: static ranked above warp in single/cross. On the mini "
     "benchmark motion@v2 is 0.0004-0.05 for static and 0.61-0.77 for warp in every split and mode (a ratio of "
     "motion magnitudes, tried first, gave static 0.17-0.37 on multi/cross faces from the analyser's jitter)"),
    ("csim ranked against the different-person band, csim_gap in self mode",
     "doing nothing won CSIM (single/self: static 0.9994 > ground truth 0.9825 > warp 0.980)"),
    ("frame-weighted coverage and the lost-face rule",
     "v1 counted items: a face found in 45% of its frames showed coverage 1.0; static won multi/self gaze "
     "with gaze for one face of two"),
    ("score against fixed anchors with paired bootstrap ties",
     "v1 min-max normalised over the methods present: adding one made-up run reversed static and warp"),
    ("cross-mode gaze published but not ranked",
     "'exprbench validate' on the mini benchmark: relative gaze MAE ordered the driving video lagged by "
     "0/2/4/8 frames at spearman 0.2 and the warp strength ladder at 0.6 (self-mode MAE passes the frozen "
     "and shuffled ladders at 1.0 and stays ranked, though it fails strength at -0.8 and lag at 0.4)"),
    ("lossless ground truth, exact frame arithmetic",
     "v1 stored the ground truth as H.264 CRF 12 (39 dB from the source; PSNR shifted by 0.12 dB) and "
     "refused a 120-frame 29.97 fps clip with --frames 120 (float rounding)"),
)


@dataclass(frozen=True, kw_only=True)
class Protocol:
    """The whole protocol: shared rules plus one entry per metric."""

    version: str = PROTOCOL_VERSION
    resize: ResizeRule = ResizeRule()
    face_region: FaceRegionRule = FaceRegionRule()
    frames: FrameRule = FrameRule()
    faces: FaceAnalysisRule = FaceAnalysisRule()
    parity: ParityRule = ParityRule()
    coverage: CoverageRule = CoverageRule()
    ranking: RankingRule = RankingRule()
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


_COMMON_FIELDS = {f.name for f in dataclasses.fields(MetricProtocol)} - {"min_span"}


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
        "| key | metric | better | modes | ranked in | needs | unit | anchor -> ideal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in p.metrics:
        ranked = ", ".join(m.ranked_modes) or "extra (not ranked)"
        anchor = "-" if m.extra else ("static baseline" if m.anchor == "static" else f"{m.worst:g}")
        lines.append(f"| `{m.key}` | {m.title} | {m.direction} | {', '.join(m.modes)} | {ranked} | "
                     f"{', '.join(m.needs)} | {m.unit} | {anchor} -> {m.ideal:g} |")
    lines += ["", "## What changed from v1, and the measurement behind each change", ""]
    lines += [f"- **{what}**: {why}." for what, why in V2_CHANGES]
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
    lines += ["", "### Coverage and lost faces", ""]
    lines += [f"- **{f.name}**: {_fmt(getattr(p.coverage, f.name))}" for f in dataclasses.fields(p.coverage)]
    lines += ["", "### Ranking", ""]
    lines += [f"- **{f.name}**: {_fmt(getattr(p.ranking, f.name))}" for f in dataclasses.fields(p.ranking)]
    lines += ["", "### Missing values", "", p.nan_policy, "", "### Multi-character items", "", p.multi_items]
    for m in p.metrics:
        lines += ["", f"## {m.title} (`{m.key}`)", "",
                  f"- **extractor**: {m.extractor}",
                  f"- **inputs**: {m.inputs}",
                  f"- **definition**: {m.definition}",
                  f"- **per frame**: {m.per_frame}",
                  f"- **per video**: {m.per_video}",
                  f"- **per split**: {m.per_split}"]
        if m.extra:
            lines.append(f"- **labelled extra**: {m.extra}")
        if m.relative_in:
            lines.append(f"- **relative motion in**: {', '.join(m.relative_in)} mode")
        lines += [f"- **{name}**: {_fmt(value)}" for name, value in _settings(m)]
    return "\n".join(lines) + "\n"
