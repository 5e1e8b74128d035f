"""``warp``: a classical landmark-driven baseline that runs on any CPU and animates any number of faces.

Method (version ``warp-1``), per face, with MediaPipe's 478 landmarks (x, y in pixels, z in the same
units as x):

1. Head motion is factored out of the driving face: every driving frame is aligned to the first frame
   with the 3D similarity transform (Umeyama, least squares) fitted on ``STABLE_POINTS``, landmarks on
   the rigid upper face and nose that expressions barely move. What remains, aligned landmarks minus
   first-frame landmarks, is the expression motion, in the driving face's neutral frame.
2. The motion is transferred to the portrait face: a 3D similarity fitted from the driving first frame to
   the portrait (same stable points) rotates and scales the motion vectors into the portrait's pose and
   size; target landmarks = portrait landmarks + transformed motion (x, y). This is relative motion as
   LivePortrait uses it: the driving frame 0 maps to the unchanged portrait, so the driving video should
   start neutral (a self item's first frame is the portrait itself).
3. The face region is warped piecewise-affinely (``mesh.py``) from the portrait landmarks to the
   targets, on a Delaunay mesh of the landmarks plus a fixed ring (the face oval enlarged by
   ``RING_SCALE`` about its centre), so the warp fades to the identity at the ring.

Faces are paired left to right with the item's boxes: portrait faces by position, driving tracks of a
multi-person video by order (FantasyPortrait's convention). A portrait face MediaPipe cannot find stays
still; a driving frame without the face holds the last motion (zero before the first sighting). Both are
recorded in the result's notes. Everything is deterministic: MediaPipe on CPU, no randomness.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from baselines.adapter import register_adapter
from baselines.job import Job, MethodOutput
from baselines.mesh import Mesh, warp_region
from exprbench.video import VideoWriter, load_image

WARP_VERSION = "warp-1"
STABLE_POINTS = [10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1,  # midline: forehead, nose bridge, nose tip
                 127, 356, 234, 454, 162, 389, 21, 251, 54, 284, 103, 332, 67, 297, 109, 338,  # temples, upper oval
                 33, 133, 263, 362,  # eye corners
                 98, 327, 129, 358]  # nose wings
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
             176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]
RING_SCALE = 1.4


def umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity (s, R, t) with dst ~= s * R @ src + t, for (N, D) point sets."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - mu_s, dst - mu_d
    cov = b.T @ a / len(src)
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(len(sig))
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1
    rot = u @ np.diag(d) @ vt
    var = (a ** 2).sum() / len(src)
    scale = float((sig * d).sum() / var) if var > 0 else 1.0
    return scale, rot, mu_d - scale * rot @ mu_s


def to_pixels(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """MediaPipe normalised (..., 478, 3) -> pixels; z scaled like x (MediaPipe's convention)."""
    return np.asarray(landmarks, np.float64) * np.array([width, height, width])


def expression_motion(driving: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-frame landmark motion with head pose removed, relative to the first frame with the face.

    ``driving`` (T, 478, 3) pixels, NaN where the face is absent. Returns (motion (T, 478, 3), the
    reference landmarks, number of frames without the face).
    """
    present = ~np.isnan(driving[:, 0, 0])
    if not present.any():
        raise ValueError("the driving video shows no face")
    reference = driving[np.argmax(present)]
    motion = np.zeros_like(driving)
    last = np.zeros(driving.shape[1:])
    for t in range(len(driving)):
        if present[t]:
            s, rot, shift = umeyama(driving[t, STABLE_POINTS], reference[STABLE_POINTS])
            last = (s * driving[t] @ rot.T + shift) - reference
        motion[t] = last
    return motion, reference, int((~present).sum())


def transfer(portrait: np.ndarray, reference: np.ndarray, motion: np.ndarray) -> np.ndarray:
    """(T, 478, 2) target landmarks: portrait + motion rotated and scaled into the portrait face."""
    s, rot, _ = umeyama(reference[STABLE_POINTS], portrait[STABLE_POINTS])
    return (portrait[None] + s * motion @ rot.T)[..., :2]


def ring(portrait: np.ndarray, width: int, height: int) -> np.ndarray:
    """Fixed anchor points: the face oval enlarged by ``RING_SCALE`` about its centre, inside the image."""
    oval = portrait[FACE_OVAL, :2]
    centre = oval.mean(axis=0)
    points = centre + RING_SCALE * (oval - centre)
    return np.clip(points, 0, [width - 1, height - 1])


class WarpAdapter:
    name = "warp"
    version = WARP_VERSION
    native_multi_face = True
    max_native_faces = None
    needs_face_crop = False

    def config(self) -> dict[str, Any]:
        return {"stable_points": STABLE_POINTS, "ring_scale": RING_SCALE, "landmarks": "mediapipe-478",
                "alignment": "3d-similarity-umeyama", "interpolation": "bilinear"}

    def _driving_landmarks(self, job: Job) -> list[np.ndarray | None]:
        """(T, 478, 3) pixel landmarks of each face's driving person, in face order."""
        from exprbench.faces import analyze_video, associate

        if job.driving is None:
            tracks = analyze_video(job.driving_multi, num_faces=job.n_faces, identity_every=0, fps=job.fps,
                                   max_frames=job.frames)
            pairing = associate(np.asarray(job.faces), tracks, reference_size=(job.width, job.height), method="order")
            pixels = to_pixels(tracks.landmarks, tracks.width, tracks.height)
            return [None if pairing.mapping[i] is None else pixels[:, pairing.mapping[i]] for i in range(job.n_faces)]
        out: list[np.ndarray | None] = []
        for path in job.driving:
            tracks = analyze_video(path, num_faces=1, identity_every=0, fps=job.fps, max_frames=job.frames)
            if tracks.n_tracks == 0:
                out.append(None)
                continue
            best = int(np.argmax(tracks.coverage()))  # the driving person: the longest-seen face
            out.append(to_pixels(tracks.landmarks[:, best], tracks.width, tracks.height))
        return out

    def generate(self, job: Job) -> MethodOutput:
        from exprbench.faces import analyze_image, associate

        portrait = load_image(job.portrait)
        height, width = portrait.shape[:2]
        found = analyze_image(portrait, num_faces=max(8, job.n_faces), identity=False)
        pairing = associate(np.asarray(job.faces), found, reference_size=(width, height))
        driving = self._driving_landmarks(job)
        n_frames = max([len(d) for d in driving if d is not None], default=job.frames)
        notes: list[str] = []
        faces: list[tuple[Mesh, np.ndarray]] = []
        for i in range(job.n_faces):
            track = pairing.mapping[i]
            if track is None:
                notes.append(f"face {i}: not found in the portrait; left still")
                continue
            if driving[i] is None or np.isnan(driving[i][:, 0, 0]).all():
                notes.append(f"face {i}: no face in its driving video; left still")
                continue
            source = to_pixels(found.landmarks[0, track], width, height)
            motion, reference, missing = expression_motion(driving[i])
            if missing:
                notes.append(f"face {i}: driving face missing in {missing} of {len(motion)} frames (motion held)")
            targets = transfer(source, reference, motion)
            anchors = ring(source, width, height)
            mesh = Mesh.build(np.concatenate([source[:, :2], anchors]), width, height)
            fixed = np.broadcast_to(anchors, (len(targets),) + anchors.shape)
            faces.append((mesh, np.concatenate([targets, fixed], axis=1)))
        path = job.work_dir / "warp.mp4"
        with VideoWriter(path, job.fps) as writer:
            for t in range(n_frames):
                frame = portrait.copy()
                for mesh, targets in faces:
                    warp_region(frame, portrait, mesh, targets[min(t, len(targets) - 1)])
                writer.write(frame)
        return MethodOutput(path, notes=notes, details={"faces_animated": len(faces)})


register_adapter("warp", lambda _config: WarpAdapter())
