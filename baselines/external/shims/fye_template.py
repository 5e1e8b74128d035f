"""Follow-Your-Emoji driving template, run INSIDE the Follow-Your-Emoji environment (cwd = its checkout).

Usage: python fye_template.py DRIVING.mp4 OUT.npy

Follows the repository's ``make_temple.ipynb``: its own ``media_pipe.mp_utils.LMKExtractor`` on every
driving frame (OpenCV BGR), ``width``/``height`` added to each per-frame dict, the list saved with
``np.save`` (pickled). Like the notebook, a frame without a face is an error: the method cannot use it.
Only the method's environment's packages are used here (never the toolkit's).
"""

import sys

import cv2
import numpy as np
from media_pipe.mp_utils import LMKExtractor


def main(video: str, out: str) -> int:
    extractor = LMKExtractor()
    capture = cv2.VideoCapture(video)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        result = extractor(frame)
        if result is None:
            print(f"{video}: no face in frame {len(frames)}; Follow-Your-Emoji needs a face in every frame",
                  file=sys.stderr)
            return 3
        result["width"], result["height"] = frame.shape[1], frame.shape[0]
        frames.append(result)
    capture.release()
    if not frames:
        print(f"{video}: no frames could be read", file=sys.stderr)
        return 2
    np.save(out, frames)
    print(f"{len(frames)} frames -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
