"""How the expressiveness defaults were chosen: ``python -m multiexpr.calibration``.

Real faces: the woman in ``sample_pexels`` (three 5 s windows) and the man in ``sample_single_face_video``
(played forwards and backwards), each analysed exactly as the build does (25 fps, then sampled at
``analysis_fps``). Static faces: a single frame of each repeated for 5 s and encoded with H.264 like a
source would be, so what remains is codec and landmarker noise. For each measure the threshold is the
geometric mean of the largest static value and the smallest real one: both sides then clear it by the
same factor. The printed values are recorded in ``multiexpr.config.CALIBRATION``.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import numpy as np

from exprbench.assets import asset_path
from exprbench.video import read_resampled, read_video, write_video
from multiexpr.config import BuildConfig
from multiexpr.sample import FPS, _boomerang
from multiexpr.stages.quality import ExpressivenessFilter

MEASURES = ("blendshape_std", "landmark_motion", "pose_std_deg")


def _measure(frames: np.ndarray, config: BuildConfig, folder: Path, name: str) -> dict:
    """Encode ``frames`` as a source would be, sample at the analysis rate, measure the one face."""
    from exprbench.faces import analyze_frames

    path = write_video(folder / f"{name}.mp4", frames, FPS)
    step = FPS / config.analysis_fps
    sampled = read_video(path, [int(round(k * step)) for k in range(int(len(frames) / step))])
    tracks = analyze_frames(sampled, config.analysis_fps, num_faces=1, identity_every=config.identity_every,
                            min_face_px=config.detect_min_face_px)
    return ExpressivenessFilter(config).face_measures(tracks, 0)


def calibrate(config: BuildConfig | None = None) -> dict:
    config = config or BuildConfig()
    woman = read_resampled(asset_path("sample_pexels"), FPS)
    man = read_resampled(asset_path("sample_single_face_video"), FPS)
    n = int(5 * FPS)
    real = {f"woman_{k * 5}s": woman[k * n:(k + 1) * n] for k in range(3)}
    real["man"] = _boomerang(man, n)
    static = {"woman_static": np.repeat(woman[:1], n, axis=0), "man_static": np.repeat(man[:1], n, axis=0)}
    with tempfile.TemporaryDirectory() as tmp:
        values = {name: _measure(f, config, Path(tmp), name) for name, f in {**real, **static}.items()}
    real_min = {m: min(values[k][m] for k in real) for m in MEASURES}
    static_max = {m: max(values[k][m] for k in static) for m in MEASURES}
    thresholds = {m: math.sqrt(real_min[m] * static_max[m]) for m in MEASURES}
    return {"per_face": values, "real_min": real_min, "static_max": static_max, "thresholds": thresholds}


if __name__ == "__main__":
    print(json.dumps(calibrate(), indent=1, default=float))
