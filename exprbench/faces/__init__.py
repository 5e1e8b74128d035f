"""Face analysis for one or many faces: landmarks, blendshapes, head pose, gaze, identity, tracking.

``analyze_video`` / ``analyze_frames`` / ``analyze_image`` return a ``FaceTracks`` (arrays indexed
(frame, track), NaN where a face is absent, tracks ordered left to right by first appearance).
``associate`` pairs two face sets explicitly. ``analyze_regions`` / ``analyze_video_regions`` analyse
faces at known boxes in face-centred crops (small faces in videos; track j is box j, see ``regions.py``).
See ``analyze.py`` for the pipeline, ``geometry.py`` for the pose and gaze conventions, ``tracking.py``
for track linking and ``cache.py`` for caching.
"""

from exprbench.faces.analyze import (
           ANALYSER_VERSION,
           TOO_SMALL,
           analyze_frames,
           analyze_image,
           analyze_video,
)
from exprbench.faces.association import Association, associate, associate_tracks
from exprbench.faces.geometry import GAZE_METHOD, POSE_CONVENTION
from exprbench.faces.identity import cosine_similarity
from exprbench.faces.landmarker import BLENDSHAPE_NAMES, N_BLENDSHAPES, N_LANDMARKS
from exprbench.faces.regions import (
           REGIONS_VERSION,
           analyze_regions,
           analyze_video_regions,
)
from exprbench.faces.result import FaceTracks, SkippedFace

__all__ = ["ANALYSER_VERSION", "BLENDSHAPE_NAMES", "GAZE_METHOD", "N_BLENDSHAPES", "N_LANDMARKS", "POSE_CONVENTION",
           "REGIONS_VERSION", "TOO_SMALL", "Association", "FaceTracks", "SkippedFace", "analyze_frames", "analyze_image",
           "analyze_regions", "analyze_video", "analyze_video_regions", "associate", "associate_tracks", "cosine_similarity"]
