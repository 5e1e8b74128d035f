"""The curation stages, one module per family, NeMo-Curator style (``base`` says what a stage is).

A ``SourceTask`` goes through ``probe`` and ``shots`` (the shot split turns it into ``Candidate`` clips);
each candidate goes through the length filter, ``faces`` (the pre-pass face count, the face analysis and
the full face count), the ``quality`` filters, ``cut``, ``annotate`` and, with a captioner, ``caption``.
:func:`default_stages` is the one place that order is written: the pipeline, the throughput benchmark,
the stats and the tests all take it from here.

Why this order: the length and pre-pass filters need no face analysis, so too-short shots and shots
that plainly lack faces never pay for it (the pre-pass filter is left out when ``prepass_fps`` is 0);
the face filters run cheapest first; the cut (the costliest step after analysis) runs only for clips
every filter kept.
"""
from __future__ import annotations

from pathlib import Path

from multiexpr.config import BuildConfig
from multiexpr.layout import Layout
from multiexpr.stages.annotate import AnnotateStage
from multiexpr.stages.base import Stage
from multiexpr.stages.caption import CaptionStage
from multiexpr.stages.cut import CutStage
from multiexpr.stages.faces import FaceCountFilter, FaceStage, PrepassFilter
from multiexpr.stages.probe import ProbeStage
from multiexpr.stages.quality import (
    ExpressivenessFilter,
    FaceSizeFilter,
    OverlapFilter,
    SharpnessFilter,
)
from multiexpr.stages.shots import LengthFilter, ShotSplitStage


def default_stages(config: BuildConfig, out: Path) -> list[Stage]:
    """The stages of a build of ``config`` into the output folder ``out``, in order, not yet set up."""
    stages: list[Stage] = [ProbeStage(config), ShotSplitStage(config), LengthFilter(config)]
    if config.prepass_fps > 0:
        stages.append(PrepassFilter(config))
    stages += [
        FaceStage(config), FaceCountFilter(config), FaceSizeFilter(config), OverlapFilter(config),
        SharpnessFilter(config), ExpressivenessFilter(config),
        CutStage(config, layout=Layout(Path(out)), keep_frames=bool(config.captioner)), AnnotateStage(config),
    ]
    if config.captioner:
        stages.append(CaptionStage(config))
    return stages
