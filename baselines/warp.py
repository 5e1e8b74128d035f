"""``warp``: a classical landmark-driven baseline that runs on any CPU and animates any number of faces.

Method (version ``warp-3``), per face, with MediaPipe's 478 landmarks (x, y in pixels, z in the same
units as x):

1. Reference frame: the driving frame whose 52 blendshapes are closest (L1) to the portrait face's
   (``anchor_frame``). Motion is relative to it, so the portrait keeps its own expression where the
   driver shows the most similar one; in self mode it is frame 0, the portrait itself (decided on the
   pixels since warp-3: the blendshape match alone once picked frame 21 of the two-person clip).
2. Expression and head motion are separated: every driving frame is aligned to the reference with the
   3D similarity (Umeyama, least squares) fitted on ``STABLE_POINTS``, landmarks on the rigid upper
   face and nose that expressions barely move. Aligned landmarks minus the reference's are the
   expression motion; the inverse alignment is the head motion (translation, scale, 3D rotation).
3. Transfer: with G the similarity from the driving reference to the portrait (same stable points),
   targets = G H_t G^-1 (portrait + G(expression)), x and y kept: the expression is rotated and scaled
   into the portrait's pose and size, and the head motion is re-applied conjugated into the portrait's
   frame (translations scale with the face, yaw and pitch move landmarks by their depth).
4. The face region is warped piecewise-affinely (``mesh.py``) on a Delaunay mesh of the landmarks and
   two rings: the face oval enlarged ``INNER_RING`` times, moved rigidly with the head so hair and chin
   follow it, and enlarged ``OUTER_RING`` times, fixed, so the warp feathers into the untouched image.
   Faces are warped one after another on the same frame, so overlapping regions compose.

Measured on the mini benchmark with ``exprbench eval`` (50 frames; static in brackets): single self
LMD 0.0041 (0.0424), multi self LMD 0.0113 (0.0409), single cross AED 0.0971 (0.1063), multi cross
AED 0.0919 (0.1070), CSIM 0.980-0.990 (0.9993-0.9995).

Strength (``strength`` in [0, 1], methods config ``[warp] strength = 0.5``): both motions are scaled
relative to the reference frame: the expression motion linearly, the head motion as a fraction of its
rotation angle and log-scale about the reference face's centre, with the centre's displacement scaled
linearly (``scale_head_motion``). 0 writes the portrait unchanged in every frame (exactly ``static``'s
frames), 1 is the full transfer, bit-identical to the output before the knob existed; the values in
between are the controlled quality ladder ``exprbench validate`` scores the metrics on.

Faces are paired left to right with the item's boxes: portrait faces by position, driving tracks of a
multi-person video by order (FantasyPortrait's convention). A portrait face MediaPipe cannot find stays
still; a driving frame without the face holds the last motion (the reference's before the first
sighting). Both are recorded in the result's notes. Everything is deterministic: MediaPipe on CPU, no
randomness.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from baselines.job import Job, MethodOutput
from baselines.mesh import Mesh, warp_region
from exprbench.errors import InputError
from exprbench.video import VideoWriter, load_image

WARP_VERSION = "warp-3"
STABLE_POINTS = [10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1,  # midline: forehead, nose bridge, nose tip
                 127, 356, 234, 454, 162, 389, 21, 251, 54, 284, 103, 332, 67, 297, 109, 338,  # temples, upper oval
                 33, 133, 263, 362,  # eye corners
                 98, 327, 129, 358]  # nose wings
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
             176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]
INNER_RING = 1.4
OUTER_RING = 2.0


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


def anchor_frame(driving_blendshapes: np.ndarray, portrait_blendshapes: np.ndarray | None,
                 portrait_is_first_frame: bool = False) -> int:
    """The driving frame whose expression is closest to the portrait's (L1 over the 52 blendshapes).

    Why: motion is transferred relative to this frame, so the portrait shows its own expression exactly
    when the driver shows the most similar one, and the driver's expression changes are added from
    there. Relative to frame 0 instead, a portrait that smiles driven by a clip that starts frowning
    would end up with both expressions at once. When the portrait is the driving video's first frame
    (self mode; ``portrait_is_first_frame``, decided on the pixels), that frame is the reference: the
    blendshapes of a still image and of the same picture as a video frame differ by about 0.02
    (MediaPipe's VIDEO-mode filtering), which once picked frame 21 of the two-person clip and shifted
    a head at frame 0. Without blendshapes (portrait face unreadable), the first frame with the face.
    """
    present = ~np.isnan(driving_blendshapes[:, 0])
    if portrait_is_first_frame and present[0]:
        return 0
    if portrait_blendshapes is None or np.isnan(portrait_blendshapes).any():
        return int(np.argmax(present))
    distance = np.abs(driving_blendshapes - portrait_blendshapes).mean(axis=1)
    return int(np.nanargmin(np.where(present, distance, np.nan)))


def driving_motion(driving: np.ndarray, anchor: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Split each driving frame into expression motion and head motion, both relative to ``anchor``.

    ``driving`` (T, 478, 3) pixels, NaN where the face is absent; the anchor frame must show the face.
    Each frame is aligned to the anchor by the 3D similarity fitted on ``STABLE_POINTS``: the aligned
    landmarks minus the anchor's are the expression motion (T, 478, 3); the inverse of the alignment is
    the head motion, returned as (T, 3, 3) linear parts (scale times rotation) and (T, 3) shifts mapping
    anchor-frame coordinates to frame t. A frame without the face holds the previous frame's values
    (the anchor's before the first sighting). Also returns the number of frames without the face.
    """
    present = ~np.isnan(driving[:, 0, 0])
    if not present[anchor]:
        raise ValueError("the anchor frame shows no face")
    reference = driving[anchor]
    motion = np.zeros_like(driving)
    linear = np.broadcast_to(np.eye(3), (len(driving), 3, 3)).copy()
    shift = np.zeros((len(driving), 3))
    last = (np.zeros(driving.shape[1:]), np.eye(3), np.zeros(3))
    for t in range(len(driving)):
        if present[t]:
            s, rot, offset = umeyama(driving[t, STABLE_POINTS], reference[STABLE_POINTS])
            inverse = rot.T / s  # anchor -> frame t: x_t = inverse @ (x_anchor - offset)
            last = ((s * driving[t] @ rot.T + offset) - reference, inverse, -inverse @ offset)
        motion[t], linear[t], shift[t] = last
    return motion, linear, shift, int((~present).sum())


def scale_head_motion(linear: np.ndarray, shift: np.ndarray, centre: np.ndarray,
                      strength: float) -> tuple[np.ndarray, np.ndarray]:
    """The fraction ``strength`` of each head motion x -> linear @ x + shift (similarities, (T, 3, 3), (T, 3)).

    Why not a linear blend with the identity: blending rotation matrices shears and shrinks the face.
    Instead the rotation angle (about the same axis) and the log-scale are multiplied by ``strength``
    and the motion of ``centre`` (the reference face's stable-point centroid) is scaled linearly, so the
    face turns and travels that fraction of the way about its own centre.
    """
    from scipy.spatial.transform import Rotation

    scale = np.cbrt(np.linalg.det(linear))  # (T,): a similarity's linear part is scale * rotation
    rotation = Rotation.from_matrix(linear / scale[:, None, None])
    partial = Rotation.from_rotvec(rotation.as_rotvec() * strength).as_matrix()
    new_linear = partial * (scale ** strength)[:, None, None]
    moved = linear @ centre + shift - centre  # (T, 3): where the face centre travels
    new_shift = centre + strength * moved - new_linear @ centre
    return new_linear, new_shift


def transfer(portrait: np.ndarray, reference: np.ndarray, motion: np.ndarray, linear: np.ndarray,
             shift: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Target landmarks (T, 478, 2) for the portrait face, and its per-frame head motion.

    With G the similarity fitted from the driving anchor to the portrait (``STABLE_POINTS``) and H_t the
    driving head motion, the target is G H_t G^-1 (portrait + G(motion)): the expression motion is
    rotated and scaled into the portrait's pose and size, then the driver's head motion is re-applied
    conjugated into the portrait's frame, so translations scale with the face size and rotations keep
    their axes relative to the face (yaw and pitch move the landmarks by their MediaPipe depth). In self
    mode G is the identity and the targets are the driving landmarks themselves. Returns the targets and
    the head motion in portrait pixels as (T, 3, 3) linear parts and (T, 3) shifts.
    """
    s, rot, offset = umeyama(reference[STABLE_POINTS], portrait[STABLE_POINTS])
    expressive = portrait[None] + s * motion @ rot.T
    head_linear = rot @ linear @ rot.T  # (T, 3, 3): the linear part of G H_t G^-1
    head_shift = offset - head_linear @ offset + s * shift @ rot.T
    moved = np.einsum("tij,tnj->tni", head_linear, expressive) + head_shift[:, None]
    return moved[..., :2], head_linear, head_shift


def rings(portrait: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mesh's two anchor rings around a face: (R, 3) at the oval's mean depth, and (R, 2).

    The inner ring (the face oval enlarged ``INNER_RING`` times about its centre) moves with the head,
    so hair, ears and chin travel with the face; the outer ring (``OUTER_RING`` times) never moves, so
    the warp is the identity from there on and the stretch between the rings feathers the head motion
    into the untouched background.
    """
    oval = portrait[FACE_OVAL]
    centre = oval.mean(axis=0)
    inner = centre + (oval - centre) * np.array([INNER_RING, INNER_RING, 0.0])
    outer = centre[:2] + OUTER_RING * (oval[:, :2] - centre[:2])
    return inner, outer


def face_mesh(portrait: np.ndarray, targets: np.ndarray, head_linear: np.ndarray, head_shift: np.ndarray,
              width: int, height: int) -> tuple[Mesh, np.ndarray]:
    """The face's warp mesh and its per-frame target points (landmarks, inner ring, outer ring)."""
    inner, outer = rings(portrait)
    inner_t = (np.einsum("tij,nj->tni", head_linear, inner) + head_shift[:, None])[..., :2]
    outer_t = np.broadcast_to(outer, (len(targets),) + outer.shape)
    mesh = Mesh.build(np.concatenate([portrait[:, :2], inner[:, :2], outer]), width, height)
    return mesh, np.concatenate([targets, inner_t, outer_t], axis=1)


class WarpAdapter:
    name = "warp"
    version = WARP_VERSION
    native_multi_face = True
    max_native_faces = None
    needs_face_crop = False
    config_keys = frozenset({"strength"})  # the methods-config keys it reads

    def __init__(self, strength: float = 1.0) -> None:
        try:
            value = float(strength)
        except (TypeError, ValueError):
            value = float("nan")
        if not 0.0 <= value <= 1.0:  # NaN fails too
            raise InputError(None, f"warp: strength must be a number in [0, 1], got {strength!r}",
                             "set [warp] strength in the methods config to 0 (static) ... 1 (full motion)")
        self.strength = value

    def config(self) -> dict[str, Any]:
        return {"strength": self.strength, "stable_points": STABLE_POINTS, "inner_ring": INNER_RING,
                "outer_ring": OUTER_RING,
                "landmarks": "mediapipe-478", "alignment": "3d-similarity-umeyama",
                "reference": "driving frame closest to the portrait's blendshapes", "head_motion": True,
                "interpolation": "bilinear"}

    def _driving_faces(self, job: Job) -> list[tuple[np.ndarray, np.ndarray] | None]:
        """Per face, in face order: its driving person's (T, 478, 3) pixel landmarks and (T, 52) blendshapes."""
        from exprbench.faces import analyze_video, associate

        if job.driving is None:
            tracks = analyze_video(job.driving_multi, num_faces=job.n_faces, identity_every=0, fps=job.fps,
                                   max_frames=job.frames)
            pairing = associate(np.asarray(job.faces), tracks, reference_size=(job.width, job.height), method="order")
            pixels = to_pixels(tracks.landmarks, tracks.width, tracks.height)
            return [None if (k := pairing.mapping[i]) is None else (pixels[:, k], tracks.blendshapes[:, k])
                    for i in range(job.n_faces)]
        out: list[tuple[np.ndarray, np.ndarray] | None] = []
        for path in job.driving:
            tracks = analyze_video(path, num_faces=1, identity_every=0, fps=job.fps, max_frames=job.frames)
            if tracks.n_tracks == 0:
                out.append(None)
                continue
            best = int(np.argmax(tracks.coverage()))  # the driving person: the longest-seen face
            out.append((to_pixels(tracks.landmarks[:, best], tracks.width, tracks.height), tracks.blendshapes[:, best]))
        return out

    def generate(self, job: Job) -> MethodOutput:
        from exprbench.faces import analyze_image, associate

        portrait = load_image(job.portrait)
        if self.strength == 0.0:  # no motion to transfer: the portrait itself, as ``static`` writes it
            path = job.work_dir / "warp.mp4"
            with VideoWriter(path, job.fps) as writer:
                for _ in range(job.frames):
                    writer.write(portrait)
            return MethodOutput(path, notes=["strength 0: the portrait unchanged in every frame"],
                                details={"faces_animated": 0, "anchor_frames": [None] * job.n_faces})
        height, width = portrait.shape[:2]
        found = analyze_image(portrait, num_faces=max(8, job.n_faces), identity=False)
        pairing = associate(np.asarray(job.faces), found, reference_size=(width, height))
        driving = self._driving_faces(job)
        n_frames = max([len(d[0]) for d in driving if d is not None], default=job.frames)
        notes: list[str] = []
        faces: list[tuple[Mesh, np.ndarray]] = []
        anchors: list[int | None] = []
        first_frame_of: dict[Path, bool] = {}
        for i in range(job.n_faces):
            track = pairing.mapping[i]
            anchors.append(None)
            if track is None:
                notes.append(f"face {i}: not found in the portrait; left still")
                continue
            if driving[i] is None or np.isnan(driving[i][0][:, 0, 0]).all():
                notes.append(f"face {i}: no face in its driving video; left still")
                continue
            landmarks, blendshapes = driving[i]
            source = to_pixels(found.landmarks[0, track], width, height)
            source_video = job.driving_multi or job.driving[i]
            if source_video not in first_frame_of:  # one decode per driving video, not per face
                first_frame_of[source_video] = _is_first_frame(portrait, source_video)
            anchor = anchor_frame(blendshapes, found.blendshapes[0, track], first_frame_of[source_video])
            motion, linear, shift, missing = driving_motion(landmarks, anchor)
            if self.strength != 1.0:  # at 1 nothing is recomputed, so full strength stays bit-identical
                centre = landmarks[anchor, STABLE_POINTS].mean(axis=0)
                motion = motion * self.strength
                linear, shift = scale_head_motion(linear, shift, centre, self.strength)
            if missing:
                notes.append(f"face {i}: driving face missing in {missing} of {len(motion)} frames (motion held)")
            targets, head_linear, head_shift = transfer(source, landmarks[anchor], motion, linear, shift)
            faces.append(face_mesh(source, targets, head_linear, head_shift, width, height))
            anchors[i] = anchor
        path = job.work_dir / "warp.mp4"
        with VideoWriter(path, job.fps) as writer:
            for t in range(n_frames):
                frame = portrait.copy()
                for mesh, targets in faces:  # each face warps the frame as the faces before it left it
                    warp_region(frame, frame, mesh, targets[min(t, len(targets) - 1)])
                writer.write(frame)
        return MethodOutput(path, notes=notes, details={"faces_animated": len(faces), "anchor_frames": anchors})


def _is_first_frame(portrait: np.ndarray, driving: Path) -> bool:
    """Whether the portrait is the driving video's first frame (self mode): same size and within 2 levels on
    average (a lossy re-encode of the same picture stays well under it; another picture does not)."""
    from exprbench.video import read_video

    first = read_video(driving, [0])[0]
    return first.shape == portrait.shape and float(np.abs(first.astype(np.int16) - portrait).mean()) < 2.0
