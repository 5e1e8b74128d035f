"""The release's NanoDet/GFL-style face detector (`face_det.onnx`) run with onnxruntime on the CPU.

Pre- and post-processing follow the release (spec §2.2): keep-ratio letterbox to 160x272 (W x H),
BGR mean/std normalisation, distribution-focal box decoding over strides 8/16/32 with reg_max 7,
score threshold 0.4 and hard NMS at IoU 0.3 over the 200 best candidates.

The anchor grid of each stride has ceil(272 / stride) rows and ceil(160 / stride) columns: the
release builds it with ``np.arange(272 / stride)``, so stride 32 gives 9 rows (8.5 rounded up) and
45 anchors, and the network's outputs have exactly that length. `anchor_centres` derives the rows
from the output length and refuses a length that is not a whole number of rows.
"""

from __future__ import annotations

from pathlib import Path

import math

import cv2
import numpy as np

INPUT_HW = (272, 160)
STRIDES = (8, 16, 32)
REG_MAX = 7
MEAN_BGR = np.array([103.53, 116.28, 123.675], dtype=np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], dtype=np.float32)
NMS_CANDIDATES = 200
"""The release's `hard_nms(candidate_size=200)`: only the 200 highest-scoring boxes enter NMS."""


def onnx_session(path: str | Path, what: str):
    """An onnxruntime CPU session, with a clear error when the model file is absent."""
    import onnxruntime

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {what} model not found; download it from Hugging Face acvlab/FantasyPortrait")
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def letterbox_matrix(width: int, height: int) -> np.ndarray:
    """3x3 matrix scaling the image into the detector input while keeping its aspect ratio, centred."""
    dst_h, dst_w = INPUT_HW
    ratio = dst_h / height if width / height < dst_w / dst_h else dst_w / width
    centre = np.array([[1, 0, -width / 2], [0, 1, -height / 2], [0, 0, 1]], dtype=np.float64)
    scale = np.diag([ratio, ratio, 1.0])
    shift = np.array([[1, 0, dst_w / 2], [0, 1, dst_h / 2], [0, 0, 1]], dtype=np.float64)
    return shift @ scale @ centre


def hard_nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, candidates: int = NMS_CANDIDATES) -> np.ndarray:
    """Indices kept by greedy NMS, best score first, among the `candidates` best-scoring boxes."""
    order = np.argsort(scores)[::-1][:candidates]
    keep = []
    while order.size:
        best = order[0]
        keep.append(best)
        rest = order[1:]
        lt = np.maximum(boxes[rest, :2], boxes[best, :2])
        rb = np.minimum(boxes[rest, 2:], boxes[best, 2:])
        inter = np.clip(rb - lt, 0, None).prod(axis=1)
        area = lambda b: np.clip(b[..., 2:] - b[..., :2], 0, None).prod(axis=-1)
        iou = inter / (area(boxes[rest]) + area(boxes[best]) - inter + 1e-5)
        order = rest[iou <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def grid_shape(stride: int) -> tuple[int, int]:
    """(rows, columns) of the release's anchor grid for one stride: ceil(272 / s) x ceil(160 / s)."""
    return math.ceil(INPUT_HW[0] / stride), math.ceil(INPUT_HW[1] / stride)


def anchor_centres(stride: int, count: int) -> np.ndarray:
    """[count, 4] anchor centres (x, y, x, y) in detector-input pixels, row-major.

    The number of rows comes from the network's output length `count`, with the columns of the
    160-pixel-wide input; a length that is not whole rows means another model and is refused.
    """
    columns = grid_shape(stride)[1]
    rows, rest = divmod(count, columns)
    if rest or rows == 0:
        raise ValueError(
            f"face detector output for stride {stride} has {count} anchors, not a whole number of "
            f"{columns}-anchor rows; is this the release's face_det.onnx?"
        )
    ys, xs = np.meshgrid(np.arange(rows), np.arange(columns), indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()] * 2, axis=1).astype(np.float32) * stride


def decode(scores: list[np.ndarray], distributions: list[np.ndarray], threshold: float, iou: float) -> tuple[np.ndarray, np.ndarray]:
    """Network outputs (per stride) -> boxes in detector-input pixels and their scores."""
    all_boxes, all_scores = [], []
    bins = np.arange(REG_MAX + 1, dtype=np.float32)
    for stride, score, dist in zip(STRIDES, scores, distributions, strict=True):
        score = score.reshape(score.shape[0], -1)
        centres = anchor_centres(stride, score.shape[0])
        logits = dist.reshape(-1, REG_MAX + 1)
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        distance = (probs @ bins).reshape(-1, 4) * stride
        all_boxes.append(centres + np.array([-1, -1, 1, 1], dtype=np.float32) * distance)
        all_scores.append(score.max(axis=1))
    boxes, confidences = np.concatenate(all_boxes), np.concatenate(all_scores)
    keep = confidences > threshold
    boxes, confidences = boxes[keep], confidences[keep]
    picked = hard_nms(boxes, confidences, iou)
    return boxes[picked], confidences[picked]


class FaceDetector:
    """Face boxes (x0, y0, x1, y1) in image pixels for a BGR uint8 image."""

    def __init__(self, model_path: str | Path, threshold: float = 0.4, iou: float = 0.3) -> None:
        self.session = onnx_session(model_path, "face detector (face_det.onnx)")
        self.input_name = self.session.get_inputs()[0].name
        self.threshold = threshold
        self.iou = iou

    def detect(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Returns int boxes [N, 4] and scores [N]."""
        height, width = image_bgr.shape[:2]
        matrix = letterbox_matrix(width, height)
        resized = cv2.warpPerspective(image_bgr, matrix, dsize=(INPUT_HW[1], INPUT_HW[0]))
        blob = ((resized.astype(np.float32) - MEAN_BGR) / STD_BGR).transpose(2, 0, 1)[None]
        outputs = [np.squeeze(o) for o in self.session.run(None, {self.input_name: blob})]
        boxes, scores = decode(outputs[:3], outputs[3:], self.threshold, self.iou)
        if len(boxes) == 0:
            return np.zeros((0, 4), dtype=np.int32), np.zeros(0, dtype=np.float32)
        return _to_image(boxes, np.linalg.inv(matrix), width, height), scores


def _to_image(boxes: np.ndarray, inverse: np.ndarray, width: int, height: int) -> np.ndarray:
    """Map boxes back through the inverse letterbox, clip to the image, as int like the release."""
    corners = boxes[:, [0, 1, 2, 3, 0, 3, 2, 1]].reshape(-1, 2)
    mapped = np.c_[corners, np.ones(len(corners))] @ inverse.T
    mapped = (mapped[:, :2] / mapped[:, 2:3]).reshape(-1, 8)
    xs, ys = mapped[:, 0::2], mapped[:, 1::2]
    out = np.stack([xs.min(1), ys.min(1), xs.max(1), ys.max(1)], axis=1)
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, width)
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, height)
    return out.astype(np.float32).astype(np.int32)
