"""The output folder: the configuration check (``run_config.json``, see ``multiexpr.run_config``),
deterministic consolidation, stats and the dataset card.

What ``OUT/`` holds (every path is named in ``multiexpr.layout``)::

    data/train-00000-of-0000N.parquet   accepted clips, fixed schema, sorted by clip_id
    clips/<clip_id>.mp4                 25 fps H.264 clips
    rejects.parquet                     every rejected source or candidate with its stage and reason
    stats.json                          counts per stage and reason, timings
    run_config.json                     every parameter, its hash, package and asset versions
    README.md                           dataset card (loads with ``datasets.load_dataset(OUT)``)
    .work/                              per-source parts and completion markers (resume state)
    .exprbench-output.json              what the build wrote here (``exprbench.outdir``); plus its lock files

Publishing: everything hidden (``.work/``, ``.exprbench*``) is build state, not data. Upload with
``HfApi().upload_folder(folder_path=OUT, repo_type="dataset", ignore_patterns=UPLOAD_IGNORE)`` or
``huggingface-cli upload REPO OUT . --repo-type dataset --exclude ".work/*" --exclude ".exprbench*"``;
the card says the same.

Consolidation reads every part, keeps one row per ``clip_id`` (identical files under two names give the
same ids: the first source name wins, the others become ``duplicate`` rejects), sorts rows by ``clip_id``
(rejects by source, span and id) and writes the shards afresh, each through a temp name and ``os.replace``; data files hold no timestamps or timings.
A resumed run and an uninterrupted one therefore produce byte-identical Parquet files.
"""

from __future__ import annotations

import json
import math

import pyarrow as pa
import pyarrow.parquet as pq

from exprbench.errors import ExprBenchError, InputError
from exprbench.files import atomic_write, is_temp_name
from exprbench.outdir import UPLOAD_IGNORE as _BOOKKEEPING_IGNORE
from exprbench.outdir import OutputFolder
from multiexpr import run_config, schema
from multiexpr.config import PIPELINE_VERSION, BuildConfig
from multiexpr.layout import (
    CARD,
    DATA,
    REJECTS,
    RUN_CONFIG,
    STATS,
    WORK,
    Layout,
    shard_name,
)
from multiexpr.marker import read_marker
from multiexpr.stages import default_stages

COMMAND = "multiexpr build"
# glob patterns of build state that is not part of the dataset (huggingface_hub ignore_patterns)
UPLOAD_IGNORE = [f"{WORK}/*", *_BOOKKEEPING_IGNORE]


class ConfigMismatchError(ExprBenchError):
    """An output folder was built with a different configuration."""


def check_or_write_run_config(folder: OutputFolder, config: BuildConfig, inputs: dict, force: bool) -> None:
    """Refuse an existing output built with another configuration, or whose ``run_config.json`` is damaged
    (``multiexpr.run_config.read``), before anything in it changes; with ``force``, start over instead."""
    out = folder.path
    path = Layout(out).file(RUN_CONFIG)
    if path.exists() or path.is_symlink():
        try:
            previous = run_config.read(path)
        except InputError:
            if not force:
                raise
            clear_output(folder)
        else:
            if previous.config_hash != config.hash():
                if not force:
                    changed = sorted(k for k, v in config.to_dict().items() if previous.config.get(k) != v)
                    if previous.pipeline_version != PIPELINE_VERSION:
                        changed.append("pipeline_version")
                    raise ConfigMismatchError(
                        f"{out}: was built with another configuration ({RUN_CONFIG} records config hash "
                        f"{previous.config_hash}, now {config.hash()}; changed: {', '.join(changed)}) "
                        "(use a new --out, or --force to rebuild it from scratch)")
                clear_output(folder)
    folder.record(RUN_CONFIG, f"{WORK}/")
    atomic_write(path, json.dumps(run_config.payload(config, inputs), indent=2, sort_keys=True) + "\n")


def clear_output(folder: OutputFolder) -> None:
    """Remove what a build wrote (the manifest's files and the clips its markers name), never other files."""
    layout = Layout(folder.path)
    clips = set()
    for source_id in layout.committed():
        marker, _ = read_marker(layout.marker(source_id))  # a damaged marker names no file to delete
        clips.update(marker["clips"] if marker else [])
    folder.record(*sorted(clips))
    folder.clear()


def _read_parts(layout: Layout, ids: list[str], kind: str, table_schema: pa.Schema) -> pa.Table:
    tables = [pq.read_table(layout.part(i, kind), schema=table_schema) for i in ids]
    return pa.concat_tables(tables) if tables else table_schema.empty_table()


def consolidate(folder: OutputFolder, config: BuildConfig, source_ids: list[str], license: str = "unknown") -> dict:
    """Write shards, rejects, stats and the card from the committed parts of ``source_ids``.

    Afterwards the folder holds exactly this build's files: shards, clips and files an earlier build
    wrote and this one did not (a stale shard, the clip of a removed source) are deleted, and so are the
    private partial files of killed encodes; nothing else is touched.
    """
    layout = Layout(folder.path)
    ids = sorted(source_ids)
    clips = _read_parts(layout, ids, "clips", schema.CLIPS)
    clips, duplicates = drop_duplicates(clips)
    rejects = pa.concat_tables([_read_parts(layout, ids, "rejects", schema.REJECTS), duplicates])
    rejects = rejects.sort_by([("source", "ascending"), ("source_start_frame", "ascending"),
                               ("candidate_id", "ascending")])
    per = max(1, config.rows_per_shard)
    n_shards = max(1, math.ceil(clips.num_rows / per))
    shards = [shard_name(k, n_shards) for k in range(n_shards)]
    for k, name in enumerate(shards):
        folder.record(f"{DATA}/{name}")
        schema.write_parquet(clips.slice(k * per, per), layout.data / name)
    folder.record(REJECTS, STATS, CARD, *clips.column("video").to_pylist())
    schema.write_parquet(rejects, layout.file(REJECTS))
    for leftover in layout.clips.glob(".*"):  # we hold the lock: no other build is encoding here
        if is_temp_name(leftover.name):  # an encode a kill interrupted
            leftover.unlink()
    order = [stage.name for stage in default_stages(config, layout.root)] + ["dedupe"]
    stats = aggregate_stats(layout, ids, order)
    stats["accepted"] = clips.num_rows
    stats["stages"]["dedupe"] = {"in": clips.num_rows + duplicates.num_rows, "out": clips.num_rows,
                                 "dropped": {"duplicate": duplicates.num_rows} if duplicates.num_rows else {},
                                 "seconds": 0.0}
    stats["shards"] = sorted(shards)
    atomic_write(layout.file(STATS), json.dumps(stats, indent=2, sort_keys=True) + "\n")
    atomic_write(layout.file(CARD), dataset_card(config, stats, license))
    folder.remove_stale()
    return stats


def drop_duplicates(clips: pa.Table) -> tuple[pa.Table, pa.Table]:
    """(one row per clip id, the dropped rows as rejects), sorted by clip id.

    Identical files under different names hash to the same clip ids (ids come from the content). The row
    of the lexicographically first source name is kept, whatever order the workers finished in; every
    other copy becomes a ``duplicate`` reject naming the source it duplicates.
    """
    clips = clips.sort_by([("clip_id", "ascending"), ("source", "ascending")])
    ids, sources = clips.column("clip_id").to_pylist(), clips.column("source").to_pylist()
    keep = [i == 0 or ids[i] != ids[i - 1] for i in range(len(ids))]
    kept_source = {}
    for clip_id, source, first in zip(ids, sources, keep):
        if first:
            kept_source[clip_id] = source
    dropped = clips.filter(pa.array([not k for k in keep], pa.bool_()))
    rejects = [{"candidate_id": row["clip_id"], "source": row["source"],
                "source_start_frame": row["source_start_frame"], "source_end_frame": row["source_end_frame"],
                "start_s": row["start_s"], "end_s": row["end_s"], "stage": "dedupe", "reason": "duplicate",
                "detail": f"duplicate: same content and span as {kept_source[row['clip_id']]}, which is kept"}
               for row in dropped.select(["clip_id", "source", "source_start_frame", "source_end_frame", "start_s",
                                          "end_s"]).to_pylist()]
    return clips.filter(pa.array(keep, pa.bool_())), schema.table(rejects, schema.REJECTS)


def aggregate_stats(layout: Layout, ids: list[str], order: list[str]) -> dict:
    """Sum the per-source markers: counts per stage and drop reason, and seconds per stage, stages in
    ``order`` (those only an older build's markers name come last)."""
    stages: dict = {}
    totals = {"sources": len(ids), "source_frames": 0, "source_seconds": 0.0, "candidates": 0, "accepted": 0,
              "worker_seconds": 0.0}
    for i in ids:
        marker, problem = read_marker(layout.marker(i))
        if problem:  # resume checked it: it changed since, under this build's lock
            raise InputError(layout.marker(i), problem, "rerun 'multiexpr build' to process that source again")
        for key in ("source_frames", "source_seconds", "candidates", "accepted"):
            totals[key] += marker[key]
        totals["worker_seconds"] += marker["seconds"]
        for name, entry in marker["stages"].items():
            agg = stages.setdefault(name, {"in": 0, "out": 0, "dropped": {}, "seconds": 0.0})
            agg["in"] += entry["in"]
            agg["out"] += entry["out"]
            agg["seconds"] += entry["seconds"]
            for reason, n in entry["dropped"].items():
                agg["dropped"][reason] = agg["dropped"].get(reason, 0) + n
    rank = {name: i for i, name in enumerate(order)}
    totals["stages"] = {k: stages[k] for k in sorted(stages, key=lambda s: rank.get(s, len(order)))}
    return totals


def card_metadata(license: str = "unknown") -> dict:
    """The card's YAML header: configs, licence, task category, tags and the features of both configs
    (from the fixed Arrow schemas, so the Hub's viewer and ``datasets`` agree with the Parquet files)."""
    import datasets

    def features(table_schema: pa.Schema) -> list:
        return datasets.DatasetInfo(features=datasets.Features.from_arrow_schema(table_schema))._to_yaml_dict()[
            "features"]

    return {
        "license": license,
        "task_categories": ["image-to-video"],
        "tags": ["video", "multi-person", "facial-expression", "portrait-animation"],
        "pretty_name": "Multi-Expr-style multi-face expression clips",
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*.parquet"}]},
                    {"config_name": "rejects", "data_files": [{"split": "train", "path": "rejects.parquet"}]}],
        "dataset_info": [{"config_name": "default", "features": features(schema.CLIPS)},
                         {"config_name": "rejects", "features": features(schema.REJECTS)}],
    }


def dataset_card(config: BuildConfig, stats: dict, license: str = "unknown") -> str:
    """A Hugging Face dataset card: YAML header (configs, licence, features) and the curation rules in words."""
    import yaml

    drops = "\n".join(f"| {stage} | {e['in']} | {e['out']} | "
                      f"{', '.join(f'{r}: {n}' for r, n in sorted(e['dropped'].items())) or '-'} |"
                      for stage, e in stats["stages"].items())
    params = "\n".join(f"| `{k}` | `{v!r}` |" for k, v in config.to_dict().items())
    header = yaml.safe_dump(card_metadata(license), sort_keys=False, default_flow_style=False)
    licence_note = ("The licence of the clips is that of their sources; this build was not told it "
                    "(`license: unknown`; set it with `multiexpr build --license ID`)." if license == "unknown"
                    else f"Licence as declared by whoever ran the build: `{license}` (that of the sources).")
    excludes = " ".join(f'--exclude "{p}"' for p in UPLOAD_IGNORE)
    return f"""---
{header}---

# Multi-Expr-style multi-face expression clips

Built by `multiexpr build` ({PIPELINE_VERSION}, config hash `{config.hash()}`): a re-implementation of the
curation described in FantasyPortrait (arXiv:2507.12956) §4.1, whose thresholds and code were never
published. Every threshold here is the project's and listed below; `run_config.json` has them all plus
package and model versions.

- {stats['accepted']} clips from {stats['sources']} sources ({stats['source_seconds']:.1f} s of source video,
  {stats['candidates']} candidate shots).
- Each row: `video` (relative path of a 25 fps H.264 clip in `clips/`), its source and span, and per
  person (left to right) the face box in every frame (NaN when absent), expression and head-pose
  statistics, and sharpness. Videos are stored as paths, not `datasets.Video()`, so no video decoder is
  needed to load the table.
- Masks: not stored per pixel; use rule `{config.mask_rule}` (ellipse inscribed in the box grown by
  `mask_scale`={config.mask_scale}); `multiexpr.masks.face_mask(box, h, w, scale)` renders it.
- Rejected candidates and their reasons: `rejects.parquet` (config `rejects`); `detail` names sources
  relative to the input root, never by absolute path.
- {licence_note}
- Publishing: `.work/` (resume state) and `.exprbench*` (build bookkeeping) are not data; leave them out:
  `huggingface-cli upload REPO . . --repo-type dataset {excludes}` from this folder, or
  `HfApi().upload_folder(..., ignore_patterns=multiexpr.output.UPLOAD_IGNORE)`.

## Curation

probe → shot split (PySceneDetect ContentDetector, threshold {config.scene_threshold}, shots longer than
{config.max_clip_s} s cut into equal pieces; in the same decode, faces are counted on a {config.prepass_fps:g} fps grid and
shots without {config.min_faces} faces in {config.prepass_min_fraction:.0%} of those frames are rejected as `too_few_faces`
by stage `prepass`, without the full analysis) → length (≥ {config.min_frames_25fps} frames at {config.out_fps:g} fps) →
faces (MediaPipe FaceLandmarker on frames sampled at {config.analysis_fps:g} fps, tracked) → face count
(≥ {config.min_faces} faces each present in ≥ {config.min_presence:.0%} of sampled frames) → face size
(median shorter box side ≥ {config.min_face_px} px) → overlap (IoU < {config.max_iou} in every frame) →
sharpness (median variance of the Laplacian on {config.sharpness_crop_px} px face crops ≥ {config.min_sharpness}) →
expressiveness (every face: blendshape std ≥ {config.min_blendshape_std}, or non-rigid landmark speed ≥
{config.min_landmark_motion} face radii/s, or head-angle std ≥ {config.min_pose_std_deg}°) → cut (re-encode) →
annotate{' → caption (' + config.captioner + ')' if config.captioner else ''} → dedupe (identical files under
several names give the same clip ids; the first source name is kept, the others are `duplicate` rejects).

| stage | in | kept | dropped by reason |
|---|---|---|---|
{drops}

## Parameters

| parameter | value |
|---|---|
{params}
"""
