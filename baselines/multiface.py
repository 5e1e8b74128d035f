"""Multi-face animation with a single-face method: crop each face, animate it, composite it back.

This is the ``crop_and_composite`` strategy of ``baselines.md`` §3 and how the FantasyPortrait paper
ran LivePortrait on multi-character items ("the multiple faces version of LivePortrait"). Per face i
(left to right): a square crop of the portrait around the face (the box enlarged by ``CROP_MARGIN`` x
its larger side on every side, i.e. about LivePortrait's 2.0-2.3 crop scale, shifted to stay inside the
image); the method animates that crop with driving video i; its output is normalised to the crop's size,
the item's fps and frame count; and it is pasted back with a feathered mask. The mask fades to zero over
``FEATHER`` of the crop side at crop edges inside the image, and is cut out (also feathered) around the
other faces' boxes, because generative methods repaint the whole crop, neighbours included. Faces are
pasted in order, so where two crops overlap outside any face, the later one wins smoothly.

Methods that resize the whole input to a square (X-Portrait, Follow-Your-Emoji) use the same path for a
single face, so that they always see a face-centred square.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import numpy as np

from baselines.adapter import Adapter
from baselines.job import Job, MethodOutput
from baselines.normalise import normalise_video, target_size
from baselines.split import square_crop
from exprbench.video import VideoWriter, iter_frames, load_image, save_image

STRATEGY = "crop_and_composite-1"
CROP_MARGIN = 0.5
FEATHER = 0.12  # fraction of the crop side
OTHER_FACE_MARGIN = 0.15  # other faces' boxes are enlarged by this fraction of their size before exclusion


def face_crops(job: Job) -> list[tuple[int, int, int]]:
    return [square_crop(np.asarray(box), CROP_MARGIN, job.width, job.height) for box in job.faces]


def paste_mask(crop: tuple[int, int, int], face: int, faces: list[list[float]], width: int, height: int) -> np.ndarray:
    """(side, side) float32 weights in [0, 1] for pasting face ``face``'s animated crop."""
    x, y, side = crop
    feather = max(FEATHER * side, 1.0)
    coords = np.arange(side, dtype=np.float32) + 0.5
    ramp = np.ones(side, np.float32)
    ramp_x, ramp_y = ramp.copy(), ramp.copy()
    if x > 0:
        ramp_x = np.minimum(ramp_x, coords / feather)
    if x + side < width:
        ramp_x = np.minimum(ramp_x, (side - coords) / feather)
    if y > 0:
        ramp_y = np.minimum(ramp_y, coords / feather)
    if y + side < height:
        ramp_y = np.minimum(ramp_y, (side - coords) / feather)
    mask = np.clip(np.minimum(ramp_y[:, None], ramp_x[None, :]), 0, 1)
    for other, box in enumerate(faces):
        if other == face:
            continue
        x0, y0, x1, y1 = box
        pad = OTHER_FACE_MARGIN * max(x1 - x0, y1 - y0)
        dx = np.maximum(np.maximum((x0 - pad - x) - coords, coords - (x1 + pad - x)), 0)
        dy = np.maximum(np.maximum((y0 - pad - y) - coords, coords - (y1 + pad - y)), 0)
        outside = np.hypot(dy[:, None], dx[None, :])  # distance to the enlarged box, 0 inside
        mask *= np.clip(outside / feather, 0, 1)
    return mask.astype(np.float32)


def generate_per_face(adapter: Adapter, job: Job) -> MethodOutput:
    """Run ``adapter`` once per face on crops and composite the results onto the portrait."""
    portrait = load_image(job.portrait)
    driving = job.per_face_driving()
    crops = face_crops(job)
    animated: list[Path] = []
    details: dict = {"strategy": STRATEGY, "crop_margin": CROP_MARGIN, "feather": FEATHER, "faces": []}
    notes: list[str] = []
    for i, (x, y, side) in enumerate(crops):
        sub_dir = job.work_dir / f"face_{i}"
        sub_dir.mkdir(parents=True, exist_ok=True)
        box = job.faces[i]
        sub = Job(item_id=f"{job.item_id}.face{i}", portrait=save_image(sub_dir / "portrait.png", portrait[y:y + side, x:x + side]),
                  faces=[[box[0] - x, box[1] - y, box[2] - x, box[3] - y]], fps=job.fps, frames=job.frames,
                  width=side, height=side, work_dir=sub_dir, log_dir=job.log_dir, driving=[driving[i]], seed=job.seed)
        raw = adapter.generate(sub)
        record = normalise_video(raw, sub_dir / "normalised.mp4", job.fps, job.frames, side, side)
        animated.append(sub_dir / "normalised.mp4")
        details["faces"].append({"crop": [x, y, side], "normalisation": record.to_json(), **raw.details})
        notes += [f"face {i}: {n}" for n in raw.notes + sub.notes + record.changes]
    masks = [paste_mask(c, i, job.faces, job.width, job.height)[..., None] for i, c in enumerate(crops)]
    out_path = job.work_dir / "composite.mp4"
    width, height = target_size(job.width, job.height)
    base = portrait[:height, :width].astype(np.float32)
    with ExitStack() as stack, VideoWriter(out_path, job.fps) as writer:
        readers = [iter_frames(p) for p in animated]
        stack.callback(lambda: [r.close() for r in readers])
        for chunks in zip(*readers):
            for k in range(len(chunks[0])):
                frame = base.copy()
                for (x, y, side), mask, chunk in zip(crops, masks, chunks):
                    region = frame[y:y + side, x:x + side]
                    face = chunk[k][:region.shape[0], :region.shape[1]].astype(np.float32)
                    m = mask[:region.shape[0], :region.shape[1]]
                    region *= 1 - m
                    region += m * face
                writer.write(np.clip(frame + 0.5, 0, 255).astype(np.uint8))
    return MethodOutput(out_path, notes=notes, details=details)
