"""One prepared GPU check: every open GPU question of ExprBench and FantasyPortrait answered in one run.

Made for a bare CUDA machine (python3.12 and a CUDA torch, no internet, none of our other packages):

    make gpu-wheels                      # here, with internet: wheels + the parity bundle into .gpu-wheels/
    python benchmarks/gpu_check.py --dry-run   # here: every step and every wheel, and the size check
    sh benchmarks/gpu_check.sh           # there: the real run (writes gpu_check.json into $OUT if set)

Steps (each prints rows of one table; the exit status is 1 if any row failed):

1. install: the wheels in .gpu-wheels/ whose distributions are not installed yet are unpacked into
   .gpu-wheels/site (no pip, no index, no dependency resolution; torch is never among them).
2. gpu-tests: the ``gpu``-marked tests (tests/gpu, tests/fantasy_model/test_gpu.py) on the device.
3. parity: a mini-benchmark item's frames (stored in the bundle with their CPU scores, computed where
   the bundle was made) scored on the device with ``exprbench.parity``, every metric against
   ``PROTOCOL.parity``. A metric whose package or weights the machine lacks is listed "not run".
4. full-size: FantasyPortrait (Wan2.1-I2V-14B + adapter) with random weights built on the device
   (meta init, materialised in bf16), 512x512, 81 frames, 2 steps, per memory mode (none, model
   offload, group offload, fp8 storage): peak allocated memory, seconds per step, transformer
   residency asserted; compared with the release's figures (40 GB at 15.5 s/it bf16 on an A100;
   5 GB at 42.6 s/it with its offload). GPU only (``--tiny`` runs the same code at test size).
5. masked: two- and three-character masked expression attention at tiny size: changing one person's
   features changes only that person's face region, on the device as on the CPU, and a tiny masked
   generation of each runs to finite frames.

``--device cpu --tiny`` runs steps 3-5 on the CPU at tiny size, so a CPU test exercises every code path.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import math
import os
import subprocess
import sys
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHEELS_DIR = ROOT / ".gpu-wheels"
BUNDLE_NAME = "parity-bundle.npz"
SIZE_LIMIT = 64 * 2**20
STEPS = ("install", "gpu-tests", "parity", "full-size", "masked")
MEMORY_MODES = ("none", "model_cpu_offload", "group_offload", "fp8")
OFFICIAL = {"none": "40 GB at 15.5 s/it (bf16, A100, release README)",
            "model_cpu_offload": "5 GB at 42.6 s/it (release offload, num_persistent_param_in_dit=0)",
            "group_offload": "5 GB at 42.6 s/it (release offload, num_persistent_param_in_dit=0)",
            "fp8": "- (the release's fp8 advice has no figure)"}
PIP_PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
"""manylinux2014 (= manylinux_2_17) first; numpy 2.5 and Pillow 13 publish only manylinux_2_28 x86_64 wheels."""

# Pinned, resolved for CPython 3.12 on x86_64 Linux (the closure of diffusers, transformers, accelerate,
# torchmetrics, numpy and pytest, minus torch and what a torch install brings: filelock, fsspec, jinja2,
# markupsafe, mpmath, networkx, sympy, typing-extensions). hf-xet (4 MiB, binary) is left out: it only
# serves Hugging Face downloads and the GPU machine is offline. torchvision, scipy, OpenCV, lpips and
# pytorch-fid do not fit in the 64 MiB budget (scipy alone is 35 MiB): LPIPS and FID parity run only
# where the machine already has them.
WHEELS = (
    "accelerate==1.16.0", "annotated-doc==0.0.7", "annotated-types==0.8.0", "anyio==4.16.0",
    "certifi==2026.10.19.post1", "charset-normalizer==3.5.3", "click==8.5.1", "diffusers==0.42.1", "h11==0.16.0",
    "httpcore2==2.16.2", "httpx2==2.16.2", "huggingface-hub==2.4.0", "idna==3.20", "importlib-metadata==10.2.0",
    "iniconfig==2.3.1", "lazy-importer==0.1.0", "lightning-utilities==0.15.3", "markdown-it-py==4.3.0",
    "mdurl==0.1.2", "numpy==2.5.5", "packaging==26.4", "pillow==13.0.0", "pluggy==1.7.0", "psutil==7.2.2",
    "pydantic==2.14.4", "pydantic-core==2.50.5", "pygments==2.21.0", "pytest==8.3.5", "pyyaml==6.0.4",
    "regex==2026.11.19", "requests==2.34.2", "rich==15.0.0", "safetensors==0.8.0", "shellingham==1.5.4",
    "tokenizers==0.23.3", "torchmetrics==1.9.0", "tqdm==4.70.1", "transformers==5.23.0", "truststore==0.10.5",
    "typer==0.29.2", "typing-inspection==0.4.5", "urllib3==2.8.0", "zipp==4.1.2",
)


@dataclass
class Row:
    """One line of the table: what was checked, what came out, what it is compared with, and the verdict."""

    step: str
    check: str
    result: str
    reference: str = ""
    ok: bool | None = True  # None: not run (said why in ``result``), which is neither a pass nor a failure
    data: dict | None = None


# ---- wheels -------------------------------------------------------------------------------------------
def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def wheel_files(folder: Path) -> dict[str, Path]:
    """Distribution name -> wheel file in ``folder``."""
    return {_norm(p.name.split("-")[0]): p for p in sorted(folder.glob("*.whl"))}


def folder_bytes(path: Path, skip: tuple[str, ...] = (".git",)) -> int:
    total = 0
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames if d not in skip and not (Path(dirpath) / d).is_symlink()]
        total += sum((Path(dirpath) / f).stat().st_size for f in filenames if not (Path(dirpath) / f).is_symlink())
    return total


def download_wheels(folder: Path) -> None:
    """``make gpu-wheels``: the pinned wheels, each without dependencies (the list is the closure)."""
    folder.mkdir(parents=True, exist_ok=True)
    platforms = [arg for p in PIP_PLATFORMS for arg in ("--platform", p)]
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.12", "--implementation", "cp", *platforms, "-d", str(folder), *WHEELS],
                   check=True)
    names = {_norm(w.split("==")[0]) for w in WHEELS}
    for name, path in wheel_files(folder).items():
        if name not in names:
            print(f"note: {path.name} is in {folder} but not in the pinned list; it would be installed too")


def make_bundle(folder: Path, frames: int = 5) -> Path:
    """The parity bundle: the first ``frames`` ground-truth frames of a mini-benchmark item and the CPU
    scores of their lagged pair (``exprbench.parity``), computed here with the full CPU stack."""
    import tempfile

    from exprbench.benchmark.prepare import prepare_sample
    from exprbench.parity import lagged_pair, save_bundle, score_frames
    from exprbench.video import read_video

    with tempfile.TemporaryDirectory(prefix="gpu-check-bench-") as tmp:
        bench = prepare_sample(Path(tmp) / "mini", frames=16)
        item = bench.item("single-self-pexels_00s")
        truth = read_video(bench.path(item.ground_truth), list(range(frames)))
    reference = score_frames(*lagged_pair(truth), device="cpu")
    return save_bundle(folder / BUNDLE_NAME, item.id, truth, reference)


def step_install(folder: Path) -> list[Row]:
    """Unpack the wheels whose distributions are missing into ``folder/site`` and put it on the path."""
    wheels = wheel_files(folder)
    if not wheels:
        return [Row("install", "wheels", f"no wheels in {folder}: run 'make gpu-wheels' on a connected machine",
                    ok=False)]
    site = folder / "site"
    missing = []
    for name, path in wheels.items():
        try:
            md.version(name)
        except md.PackageNotFoundError:
            missing.append(path)
    site.mkdir(exist_ok=True)
    for path in missing:
        with zipfile.ZipFile(path) as whl:
            whl.extractall(site)
    _use_site(site)
    return [Row("install", "wheels", f"unpacked {len(missing)} of {len(wheels)} into {site} (the others are "
                "installed)", ok=True, data={"unpacked": [p.name for p in missing]})]


def _use_site(site: Path) -> None:
    for entry in (str(site), str(ROOT)):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)


# ---- gpu-marked tests ------------------------------------------------------------------------------------
GPU_TEST_PATHS = ("tests/gpu", "tests/fantasy_model/test_gpu.py")


def step_gpu_tests(device: str, timeout: float = 240) -> list[Row]:
    """On CUDA some test must have passed: all of them skipping would mean the device was not seen."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "gpu", *GPU_TEST_PATHS]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return [Row("gpu-tests", "pytest -m gpu", f"did not finish in {timeout:.0f} s", ok=False)]
    summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    ok = done.returncode == 0 and ("passed" in summary or not device.startswith("cuda"))
    rows = [Row("gpu-tests", "pytest -m gpu", summary, ok=ok)]
    if not ok:
        rows[0].data = {"output_tail": (done.stdout + done.stderr)[-4000:]}
    return rows


# ---- eval parity ------------------------------------------------------------------------------------------
def step_parity(folder: Path, device: str) -> list[Row]:
    from exprbench.parity import compare, lagged_pair, load_bundle, score_frames

    path = folder / BUNDLE_NAME
    if not path.is_file():
        return [Row("parity", "bundle", f"{path} is missing: run 'make gpu-wheels' on a connected machine", ok=False)]
    item_id, frames, reference = load_bundle(path)
    candidate = score_frames(*lagged_pair(frames), device=device)
    report = compare(reference, candidate)
    rows = []
    for check in report.checks:
        if check.ok is None:
            result = check.note
        else:
            result = f"max |diff| {check.difference:.3g}"
        rows.append(Row("parity", f"{item_id} {check.key}", result,
                        "" if check.ok is None else f"<= {check.allowed:.3g}", ok=check.ok))
    if not any(c.ok for c in report.checks):
        rows.append(Row("parity", "anything compared", "no metric ran on both sides", ok=False))
    return rows


# ---- full-size memory modes -----------------------------------------------------------------------------
def _generation_inputs(size: str, people: int, frames: int, height: int, width: int):
    import numpy as np
    import PIL.Image
    import torch

    generator = torch.Generator().manual_seed(0)
    image = PIL.Image.fromarray(np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8))
    columns = width // people
    boxes = [(j * columns, 0, (j + 1) * columns, min(height, columns)) for j in range(people)]
    features = [torch.randn(frames, 554, generator=generator) for _ in range(people)]
    driving = [[(10, 10, 60, 60)] * frames for _ in range(people)]
    text_dim = 4096 if size == "full" else 24
    prompt = torch.randn(1, 512, text_dim, generator=generator)
    return image, features, boxes, driving, prompt


class _StepTimer:
    """Wall time from the first transformer pass's start to the last one's end (synchronised on CUDA)."""

    def __init__(self, transformer, device) -> None:  # noqa: ANN001
        import torch

        self.sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        self.first = self.last = None
        self.calls = 0
        self.handles = [transformer.register_forward_pre_hook(self._start),
                        transformer.register_forward_hook(self._end)]

    def _start(self, *_) -> None:
        if self.first is None:
            self.sync()
            self.first = time.perf_counter()

    def _end(self, *_) -> None:
        self.sync()
        self.last = time.perf_counter()
        self.calls += 1

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _size(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.2f} MiB"


def _transformer_bytes_on(transformer, device) -> int:  # noqa: ANN001
    return sum(p.numel() * p.element_size() for p in transformer.parameters() if p.device.type == device.type)


def run_memory_mode(mode: str, size: str, device: str, frames: int, height: int, width: int, steps: int) -> Row:
    """Build the random-weight pipeline on ``device``, apply one memory mode, generate, and measure."""
    import gc

    import numpy as np
    import torch

    from fantasy_model.memory import configure_memory
    from fantasy_model.random_weights import build_random_pipeline

    target = torch.device(device)
    cuda = target.type == "cuda"
    dtype = torch.bfloat16 if size == "full" else torch.float32
    label = f"{mode} ({size}, {width}x{height}, {frames} frames, {steps} steps)"
    pipe = None
    try:
        if cuda:
            gc.collect()
            torch.cuda.empty_cache()
        start = time.perf_counter()
        pipe = build_random_pipeline(size, device=target, dtype=dtype)
        if mode in ("model_cpu_offload", "group_offload"):
            pipe.to("cpu")  # built on the device (fast init), then handed to the offload hooks from the host
        configure_memory(pipe, device=target, offload="none" if mode == "fp8" else mode, fp8=mode == "fp8")
        build_s = time.perf_counter() - start
        resident = _transformer_bytes_on(pipe.transformer, target)
        total = sum(p.numel() * p.element_size() for p in pipe.transformer.parameters())
        expect_resident = mode in ("none", "fp8")  # offload modes: nothing of it on the device until it runs
        if cuda and resident != (total if expect_resident else 0):
            raise AssertionError(f"transformer residency {resident / 2**30:.2f} of {total / 2**30:.2f} GiB "
                                 f"on {target} after setup, expected {'all' if expect_resident else 'none'}")
        image, features, boxes, driving, prompt = _generation_inputs(size, 1, frames, height, width)
        timer = _StepTimer(pipe.transformer, target)
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats(target)
        out = pipe(image, features, boxes, driving, prompt_embeds=prompt.to(dtype), num_inference_steps=steps)
        timer.remove()
        peak = torch.cuda.max_memory_allocated(target) if cuda else None
        per_step = (timer.last - timer.first) / steps
        finite = bool(np.isfinite(out.frames).all())
        data = {"mode": mode, "size": size, "peak_allocated_gib": None if peak is None else peak / 2**30,
                "s_per_step": per_step, "transformer_passes": timer.calls, "resident_transformer_gib": resident / 2**30,
                "transformer_gib": total / 2**30, "build_s": build_s, "finite_frames": finite,
                "frames_shape": list(out.frames.shape)}
        memory = "n/a on CPU" if peak is None else f"peak {peak / 2**30:.1f} GiB"
        result = (f"{memory}, {per_step:.2f} s/step ({timer.calls // steps} passes), transformer resident "
                  f"{_size(resident)} of {_size(total)} after setup, output {'finite' if finite else 'NOT finite'}")
        return Row("full-size" if size == "full" else "memory-tiny", label, result,
                   OFFICIAL[mode] if size == "full" else "", ok=True, data=data)
    except Exception as exc:  # an OOM or a failed assertion is this mode's result; the other modes still run
        return Row("full-size" if size == "full" else "memory-tiny", label, f"{type(exc).__name__}: {exc}"[:400],
                   OFFICIAL[mode] if size == "full" else "", ok=False)
    finally:
        del pipe
        if cuda:
            gc.collect()
            torch.cuda.empty_cache()


def step_full_size(device: str, tiny: bool) -> list[Row]:
    if tiny:
        return [run_memory_mode(m, "tiny", device, frames=5, height=32, width=64, steps=2) for m in MEMORY_MODES]
    return [run_memory_mode(m, "full", device, frames=81, height=512, width=512, steps=2) for m in MEMORY_MODES]


# ---- masked multi-character isolation ------------------------------------------------------------------------
def _branch_output(transformer, encoder, config, features, boxes, width, height, frames, device):  # noqa: ANN001
    """Expression branch of block 0 for fixed video queries (as tests/fantasy_model/test_masking.py)."""
    import torch

    from fantasy_model.masking import build_expression_inputs
    from fantasy_model.windowing import split_into_windows

    attn = transformer.blocks[0].attn2
    with torch.no_grad():
        windows = [split_into_windows(encoder(f[None].to(device)), frames, config.tokens_per_frame) for f in features]
        driving = [[(10, 10, 20, 20)]] * len(boxes)
        inputs, _ = build_expression_inputs(windows, boxes, driving, width, height, background="none")
        per_frame = (width // 16) * (height // 16)
        latent_frames = (frames - 1) // 4 + 1
        generator = torch.Generator().manual_seed(123)
        query = torch.randn(1, latent_frames * per_frame, attn.heads, transformer.config.attention_head_dim,
                            generator=generator).to(device)
        out = attn.processor.expression_branch(attn, query, inputs)
    return out.view(latent_frames, height // 16, width // 16, -1).cpu()


def step_masked(device: str) -> list[Row]:
    import copy

    import torch

    from fantasy_model.configs import tiny_adapter_config
    from fantasy_model.random_weights import build_random_transformer

    rows = []
    frames, height = 9, 48
    for people in (2, 3):
        width = 32 * people
        boxes = [(32 * j, 0, 32 * (j + 1), 32) for j in range(people)]  # bottom row of cells: background
        transformer, encoder = build_random_transformer("tiny", "cpu", torch.float32, seed=people)
        with torch.no_grad():  # the released projections are zero-initialised; the check needs them non-zero
            for block in transformer.blocks:
                for proj in (block.attn2.processor.ip_adapter_single_stream_k_proj,
                             block.attn2.processor.ip_adapter_single_stream_v_proj):
                    proj.weight.normal_(0.0, 0.3, generator=torch.Generator().manual_seed(7))
        hidden = transformer.config.num_attention_heads * transformer.config.attention_head_dim
        config = tiny_adapter_config(hidden, transformer.config.num_layers)
        generator = torch.Generator().manual_seed(5)
        features = [torch.randn(frames, 554, generator=generator) for _ in range(people)]
        cpu_base = _branch_output(transformer, encoder, config, features, boxes, width, height, frames, "cpu")
        on_device = (copy.deepcopy(transformer).to(device), copy.deepcopy(encoder).to(device))
        base = _branch_output(*on_device, config, features, boxes, width, height, frames, device)
        isolated = True
        for k in range(people):
            changed = list(features)
            changed[k] = changed[k] + 0.5
            other = _branch_output(*on_device, config, changed, boxes, width, height, frames, device)
            cells = (other - base).abs().amax(dim=(0, 3)) > 1e-6  # [rows, cols]
            expected = torch.zeros_like(cells)
            expected[:2, 2 * k:2 * k + 2] = True
            isolated &= bool(torch.equal(cells, expected))
        device_diff = float((base - cpu_base).abs().max())
        rows.append(Row("masked", f"{people} characters: person k changes only face k's region",
                        "isolated" if isolated else "LEAKS between regions", "as on the CPU", ok=isolated))
        rows.append(Row("masked", f"{people} characters: expression branch {device} vs cpu",
                        f"max |diff| {device_diff:.2g}", "<= 1e-4", ok=device_diff <= 1e-4))
        rows.append(_masked_generation(people, device))
    return rows


def _masked_generation(people: int, device: str) -> Row:
    import numpy as np

    from fantasy_model.memory import configure_memory
    from fantasy_model.random_weights import build_random_pipeline

    pipe = build_random_pipeline("tiny", device=device)
    configure_memory(pipe, device=device, offload="none", vae_tiling=False)
    image, features, boxes, driving, prompt = _generation_inputs("tiny", people, 5, 32, 32 * people)
    out = pipe(image, features, boxes, driving, prompt_embeds=prompt, num_inference_steps=2)
    finite = bool(np.isfinite(out.frames).all())
    return Row("masked", f"{people} characters: tiny masked generation on {device}",
               f"frames {tuple(out.frames.shape)}, {'finite' if finite else 'NOT finite'}", ok=finite)


# ---- driver -------------------------------------------------------------------------------------------------
def plan(folder: Path, device: str, tiny: bool) -> list[str]:
    """What a run does, step by step (``--dry-run`` prints it)."""
    wheels = wheel_files(folder)
    bundle = folder / BUNDLE_NAME
    return [
        f"install: unpack the missing of {len(wheels)} wheels in {folder} into {folder / 'site'} (never torch)",
        f"gpu-tests: {sys.executable} -m pytest -q -m gpu {' '.join(GPU_TEST_PATHS)}",
        f"parity: {bundle.name} ({'present' if bundle.is_file() else 'MISSING'}) scored on {device} against its "
        "CPU reference with PROTOCOL.parity (PSNR 1e-4 dB, SSIM 1e-5, LPIPS 1e-4, Frechet 1e-3 relative)",
        ("full-size: " + ("tiny random pipeline" if tiny else "Wan2.1-I2V-14B + adapter, random bf16 weights built on "
                          "the device, 512x512, 81 frames, 2 steps") + f" for each of {', '.join(MEMORY_MODES)}: peak "
         "allocated, s/step, transformer residency"),
        f"masked: 2 and 3 characters, per-region isolation of the expression attention on {device}, tiny generation",
    ]


def size_report(folder: Path) -> tuple[int, int]:
    """(bytes of the wheel folder without its unpacked site/, bytes of the repository without .git and it)."""
    wheels = sum(p.stat().st_size for p in folder.glob("*")) if folder.is_dir() else 0
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True)
    if listed.returncode == 0:  # what travels with the repository: tracked and non-ignored files, no caches
        files = [ROOT / name for name in listed.stdout.decode().split("\0") if name]
        return wheels, sum(p.stat().st_size for p in files if p.is_file() and not p.is_symlink())
    repo = folder_bytes(ROOT, skip=(".git", folder.name, ".venv", ".cache", "__pycache__", ".pytest_cache"))
    return wheels, repo


def run(args: argparse.Namespace) -> tuple[list[Row], bool]:
    folder = Path(args.wheels)
    steps = [s.strip() for s in args.steps.split(",") if s.strip()] if args.steps else list(STEPS)
    unknown = set(steps) - set(STEPS)
    if unknown:
        raise SystemExit(f"unknown step(s) {', '.join(sorted(unknown))}; choose from {', '.join(STEPS)}")
    rows: list[Row] = []
    started = time.perf_counter()
    if "install" in steps:
        rows += step_install(folder)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))
    device = args.device
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            rows.append(Row("device", device, f"torch {torch.__version__} sees no CUDA device", ok=False))
            return rows, False
        rows.append(Row("device", device, f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}, "
                        f"CUDA {torch.version.cuda}", ok=True))
    for name, call in (("gpu-tests", lambda: step_gpu_tests(device)), ("parity", lambda: step_parity(folder, device)),
                       ("full-size", lambda: step_full_size(device, args.tiny)), ("masked", lambda: step_masked(device))):
        if name not in steps:
            continue
        step_start = time.perf_counter()
        try:
            rows += call()
        except Exception as exc:  # one broken step must not hide the others' answers
            rows.append(Row(name, "step", f"{type(exc).__name__}: {exc}"[:400], ok=False))
        print(f"[{name}: {time.perf_counter() - step_start:.0f} s]", file=sys.stderr, flush=True)
    total = time.perf_counter() - started
    rows.append(Row("total", "wall time", f"{total:.0f} s", "<= 480 s", ok=total <= 480 or args.tiny))
    return rows, all(r.ok is not False for r in rows)


def print_table(rows: list[Row]) -> None:
    widths = [max(len(getattr(r, f)) for r in rows + [Row("step", "check", "result", "reference")])
              for f in ("step", "check")]
    for r in [Row("step", "check", "result", "reference", ok=None)] + rows:
        verdict = "verdict" if r.step == "step" and r.check == "check" else {True: "ok", False: "FAIL", None: "-"}[r.ok]
        ref = f"  [{r.reference}]" if r.reference else ""
        print(f"{r.step:<{widths[0]}}  {r.check:<{widths[1]}}  {verdict:<7}  {r.result}{ref}")


def write_json(rows: list[Row], ok: bool, out: str | None) -> Path | None:
    if not out:
        return None
    path = Path(out) / "gpu_check.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    clean = lambda v: None if isinstance(v, float) and not math.isfinite(v) else v  # noqa: E731
    payload = {"ok": ok, "rows": [{k: clean(v) for k, v in asdict(r).items()} for r in rows]}
    path.write_text(json.dumps(payload, indent=1, default=str) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="list the steps and wheels and check the size; run nothing")
    parser.add_argument("--prepare", action="store_true", help="download the wheels and write the parity bundle (make gpu-wheels)")
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu (cpu: with --tiny, for tests)")
    parser.add_argument("--tiny", action="store_true", help="the memory modes at test size (the CPU test uses it)")
    parser.add_argument("--steps", default="", help=f"comma-separated subset of {','.join(STEPS)}")
    parser.add_argument("--wheels", default=str(WHEELS_DIR), help="the wheel folder (default .gpu-wheels)")
    parser.add_argument("--out", default=os.environ.get("OUT"), help="folder for gpu_check.json (default $OUT)")
    args = parser.parse_args(argv)
    folder = Path(args.wheels)
    if args.prepare:
        download_wheels(folder)
        print(f"wrote {make_bundle(folder)}")
    if args.dry_run or args.prepare:
        for line in plan(folder, args.device, args.tiny):
            print(f"step {line}")
        present = wheel_files(folder)
        for requirement in WHEELS:
            name = _norm(requirement.split("==")[0])
            path = present.get(name)
            print(f"wheel {requirement:<32} {path.name if path else 'NOT DOWNLOADED (make gpu-wheels)'}")
        wheels, repo = size_report(folder)
        ok = wheels + repo < SIZE_LIMIT
        print(f"size: wheel folder {wheels / 2**20:.1f} MiB + repository {repo / 2**20:.1f} MiB = "
              f"{(wheels + repo) / 2**20:.1f} MiB ({'under' if ok else 'OVER'} the 64 MiB limit)")
        missing = [w for w in WHEELS if _norm(w.split("==")[0]) not in present]
        if missing or not (folder / BUNDLE_NAME).is_file():
            print(f"not ready: {len(missing)} wheel(s) and {'no' if not (folder / BUNDLE_NAME).is_file() else 'a'} "
                  "parity bundle; run 'make gpu-wheels' on a machine with internet")
        return 0 if ok else 1
    rows, ok = run(args)
    print_table(rows)
    path = write_json(rows, ok, args.out)
    if path:
        print(f"wrote {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
