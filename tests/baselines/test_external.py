"""External methods: config errors, the exact command lines, and the subprocess protocol (fake method)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from benchfix import fake_table

from baselines import generate_items, get_adapter
from baselines.external import methods as m
from baselines.external.config import load_methods_config
from baselines.harness import multi_face_strategy
from baselines.job import Job
from exprbench.benchmark.results import check_result
from exprbench.errors import ExprBenchError, InputError
from exprbench.video import load_image, read_video

# ---- config -------------------------------------------------------------------------------------------


def installed(tmp_path: Path, cls: type, **extra) -> dict:
    """A fake checkout with every checkpoint file the adapter checks for (empty files/dirs)."""
    repo = tmp_path / cls.name
    table = {"python": sys.executable, "repo": str(repo), **extra}
    ck = Path(extra["checkpoints"]) if "checkpoints" in extra else repo / (cls.default_checkpoints or "")
    probe = cls.__new__(cls)
    probe.settings = type("S", (), {"script": extra.get("script")})()
    for rel in probe.required_files:
        path = ck / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if "." in path.name:
            path.touch()
        else:
            path.mkdir(exist_ok=True)
    ck.mkdir(parents=True, exist_ok=True)
    return table


def test_missing_settings_name_the_key_to_set(tmp_path):
    with pytest.raises(InputError, match="is not configured"):
        get_adapter("liveportrait", None)
    with pytest.raises(InputError, match=r"set liveportrait\.python"):
        get_adapter("liveportrait", {"repo": str(tmp_path)})
    with pytest.raises(InputError, match=r"not an executable file.*liveportrait\.python"):
        get_adapter("liveportrait", {"python": str(tmp_path / "nope"), "repo": str(tmp_path)})
    with pytest.raises(InputError, match=r"repo = .* is not a directory.*set liveportrait\.repo"):
        get_adapter("liveportrait", {"python": sys.executable, "repo": str(tmp_path / "missing")})
    with pytest.raises(InputError, match=r"checkpoints = .* not a directory.*liveportrait\.checkpoints"):
        get_adapter("liveportrait", {"python": sys.executable, "repo": str(tmp_path)})
    table = installed(tmp_path, m.LivePortrait)
    (Path(table["repo"]) / "pretrained_weights/liveportrait/landmark.onnx").unlink()
    with pytest.raises(InputError, match=r"landmark\.onnx: checkpoint of liveportrait is missing"):
        get_adapter("liveportrait", table)
    with pytest.raises(ExprBenchError, match="unknown method 'nosuch'.*kind = \"jobfile\""):
        get_adapter("nosuch", None)


def test_config_file_parsing(tmp_path):
    good = tmp_path / "methods.toml"
    good.write_text(f'[liveportrait]\npython = "{sys.executable}"\nrepo = "/x"\ntimeout = 5\n')
    path, config = load_methods_config(good)
    assert path == good and config["liveportrait"]["timeout"] == 5
    bad = tmp_path / "bad.toml"
    bad.write_text('[liveportrait]\npyhton = "x"\n')
    with pytest.raises(InputError, match=r"liveportrait\.pyhton is not a setting"):
        load_methods_config(bad)
    with pytest.raises(InputError, match="methods config not found"):
        load_methods_config(tmp_path / "none.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[liveportrait\n")
    with pytest.raises(InputError, match="is not valid TOML"):
        load_methods_config(broken)


# ---- command lines ------------------------------------------------------------------------------------


def make_job(tmp_path: Path, n_faces: int = 1, size: tuple[int, int] = (640, 360)) -> Job:
    inputs = tmp_path / "work" / "inputs"
    inputs.mkdir(parents=True)
    from exprbench.video import save_image

    portrait = save_image(inputs / "portrait.png", np.zeros((size[1], size[0], 3), np.uint8))
    driving = [inputs / f"driving_{i}.mp4" for i in range(n_faces)]
    for d in driving:
        d.touch()
    faces = [[50.0 + 200 * i, 50.0, 150.0 + 200 * i, 170.0] for i in range(n_faces)]
    return Job(item_id="it", portrait=portrait, faces=faces, fps=25.0, frames=125, width=size[0], height=size[1],
               work_dir=tmp_path / "work", driving=driving)


def test_liveportrait_command(tmp_path):
    adapter = get_adapter("liveportrait", installed(tmp_path, m.LivePortrait, extra_args=["--no_flag_stitching"]))
    job = make_job(tmp_path)
    assert adapter.command(job, tmp_path / "o") == [sys.executable, "inference.py", "-s", str(job.portrait), "-d",
                                                    str(job.driving[0]), "-o", str(tmp_path / "o"), "--no_flag_stitching"]
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "portrait--driving_0.mp4").touch()
    (tmp_path / "o" / "portrait--driving_0_concat.mp4").touch()
    assert adapter.find_output(job, tmp_path / "o").path.name == "portrait--driving_0.mp4"
    assert multi_face_strategy(adapter, 2) == "crop_and_composite"


def test_liveportrait_refuses_weights_elsewhere(tmp_path):
    table = installed(tmp_path, m.LivePortrait)
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(InputError, match="reads its weights from .*pretrained_weights only"):
        get_adapter("liveportrait", {**table, "checkpoints": str(tmp_path / "elsewhere")})


def test_skyreels_pads_to_its_canvas_and_crops_back(tmp_path):
    adapter = get_adapter("skyreels-a1", installed(tmp_path, m.SkyReelsA1))
    job = make_job(tmp_path, size=(512, 512))
    (tmp_path / "o").mkdir()
    adapter.prepare(job, tmp_path / "o")
    canvas = load_image(job.work_dir / "portrait_canvas.png")
    assert canvas.shape == (512, 768, 3)  # 3:2 like 720x480
    argv = adapter.command(job, tmp_path / "o")
    assert argv[1] == "inference_long_video.py"
    assert argv[2:] == ["--image_path", str(job.work_dir / "portrait_canvas.png"), "--driving_video_path",
                        str(job.driving[0]), "--output_path", str(tmp_path / "o")]
    (tmp_path / "o" / "portrait_canvas-driving_0_output.mp4").touch()
    out = adapter.find_output(job, tmp_path / "o")
    assert out.content_box == pytest.approx((128 / 768, 0, 640 / 768, 1))
    short = get_adapter("skyreels-a1", {**installed(tmp_path / "s", m.SkyReelsA1, script="inference.py")})
    assert "film_net/film_net_fp16.pt" not in short.required_files


def test_hunyuanportrait_writes_its_yaml_and_finds_the_pasted_back_video(tmp_path):
    table = installed(tmp_path, m.HunyuanPortrait)
    (Path(table["repo"]) / "config").mkdir()
    (Path(table["repo"]) / "config/hunyuan-portrait.yaml").write_text("output_dir: ./outputs\nseed: 72580\n")
    adapter = get_adapter("hunyuanportrait", table)
    job = make_job(tmp_path)
    out_dir = tmp_path / "o"
    adapter.prepare(job, out_dir)
    import yaml

    assert yaml.safe_load((job.work_dir / "hunyuan-portrait.yaml").read_text()) == {"output_dir": str(out_dir), "seed": 72580}
    assert adapter.command(job, out_dir)[1:] == ["inference.py", "--config", str(job.work_dir / "hunyuan-portrait.yaml"),
                                                 "--video_path", str(job.driving[0]), "--image_path", str(job.portrait)]
    (out_dir / "20250101_000000_portrait_driving_0").mkdir(parents=True)
    (out_dir / "20250101_000000_portrait_driving_0" / "cropped.mp4").touch()
    with pytest.raises(ExprBenchError, match="only cropped.mp4"):
        adapter.find_output(job, out_dir)
    (out_dir / "20250101_000000_portrait_driving_0" / "full_resolution.mp4").touch()
    assert adapter.find_output(job, out_dir).path.name == "full_resolution.mp4"


def test_xportrait_command_and_face_crop(tmp_path):
    adapter = get_adapter("x-portrait", installed(tmp_path, m.XPortrait))
    job = make_job(tmp_path)
    argv = adapter.command(job, tmp_path / "o")
    assert argv[1] == "core/test_xportrait.py"
    flags = dict(zip(argv[2::2], argv[3::2]))
    assert flags["--out_frames"] == "0" and flags["--ddim_steps"] == "30" and flags["--best_frame"] == "0"
    assert flags["--resume_dir"].endswith("checkpoint/model_state-415001.th")
    assert flags["--model_config"] == "config/cldm_v15_appearance_pose_local_mm.yaml"
    assert "--use_fp16" not in argv  # store_false: passing it would disable fp16
    assert multi_face_strategy(adapter, 1) == "crop_and_composite"


def test_follow_your_emoji_template_config_and_fps(tmp_path):
    table = installed(tmp_path, m.FollowYourEmoji)
    adapter = get_adapter("follow-your-emoji", table)
    job = make_job(tmp_path)
    argv = adapter.command(job, tmp_path / "o")
    assert argv[1:8] == ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1", "infer.py", "--config"]
    assert "--model_path" not in argv  # not an argument of the examined commit: passing it fails
    assert argv[argv.index("--lmk_path") + 1] == str(job.work_dir / "template" / "driving.npy")
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "driving_portrait_oo.mp4").touch()
    out = adapter.find_output(job, tmp_path / "o")
    assert out.frame_fps == 25.0


def test_fantasyportrait_official_single_and_multi(tmp_path):
    adapter = get_adapter("fantasyportrait-official", installed(tmp_path, m.FantasyPortraitOfficial))
    one = make_job(tmp_path / "a")
    argv = adapter.command(one, tmp_path / "o")
    assert argv[1] == "infer.py" and "--fps" not in argv
    flags = dict(zip(argv[2::2], argv[3::2]))
    assert flags["--portrait_cfg_scale"] == "4.0" and flags["--num_frames"] == "125" and flags["--prompt"] == ""
    assert flags["--wan_model_path"].endswith("models/Wan2.1-I2V-14B-720P")
    two = make_job(tmp_path / "b", n_faces=2)
    argv = adapter.command(two, tmp_path / "o")
    i = argv.index("--driven_video_path")
    assert argv[1] == "infer_multi.py" and argv[i + 1:i + 3] == [str(p) for p in two.driving]
    assert argv[argv.index("--fps") + 1] == "25"
    assert multi_face_strategy(adapter, 2) == "native" and multi_face_strategy(adapter, 3) == "crop_and_composite"
    (tmp_path / "o").mkdir(exist_ok=True)
    (tmp_path / "o" / "20250101_x.mp4").touch()
    (tmp_path / "o" / "20250101_x_with_audio.mp4").touch()
    assert adapter.find_output(two, tmp_path / "o").path.name == "20250101_x.mp4"


# ---- the subprocess protocol, end to end with the fake method --------------------------------------------


def alive(pid: int) -> bool:
    """True if ``pid`` runs (a killed orphan may linger as a zombie until init reaps it: that is dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def run_fake(bench, tmp_path, mode: str, items: list[str], **extra):
    adapter = get_adapter("fake", fake_table(mode, **extra))
    return generate_items(adapter, bench, [bench.item(i) for i in items], tmp_path)


def test_fake_ok_needs_no_changes(bench, tmp_path):
    [outcome] = run_fake(bench, tmp_path, "ok", ["self_woman"])
    assert outcome.status == "done"
    sidecar = json.loads((tmp_path / "fake" / "self_woman.json").read_text())
    assert sidecar["changes"] == [] and sidecar["notes"] == ["fake ok"]
    assert sidecar["adapter_config"]["settings"]["python"] == sys.executable
    log = (tmp_path / "fake" / "logs" / "self_woman.log").read_text()
    assert "fake method: mode ok, item self_woman, 1 driving video(s)" in log


def test_fake_wrong_fps_frames_and_size_are_normalised(bench, tmp_path):
    [outcome] = run_fake(bench, tmp_path, "wrong", ["cross_astronaut"])
    item = bench.item("cross_astronaut")
    assert outcome.status == "done" and check_result(tmp_path, "fake", item).ok
    record = json.loads((tmp_path / "fake" / "cross_astronaut.json").read_text())["normalisation"]
    assert record["resampled"] and record["held_frames"] > 0 and record["resized"]
    assert record["source"]["fps"] == pytest.approx(12, abs=0.01) and record["source"]["width"] == 256
    assert read_video(tmp_path / "fake" / "cross_astronaut.mp4").shape[1:3] == (512, 512)


def test_fake_crash_is_reported_in_one_line_with_its_log(bench, tmp_path):
    [outcome] = run_fake(bench, tmp_path, "crash", ["self_woman"])
    assert outcome.status == "failed"
    assert "failed with exit code 3" in outcome.error and "CUDA out of memory (fake)" in outcome.error
    assert "\n" not in outcome.error
    assert "RuntimeError: CUDA out of memory" in (tmp_path / "fake" / "logs" / "self_woman.log").read_text()
    assert "Traceback" in (tmp_path / "fake" / "logs" / "errors.log").read_text()
    assert not (tmp_path / "fake" / "self_woman.mp4").exists()


def test_fake_timeout_kills_the_process_group(bench, tmp_path):
    start = time.monotonic()
    [outcome] = run_fake(bench, tmp_path, "sleep", ["self_woman"], timeout=4)
    assert outcome.status == "failed" and "timed out after 4 s" in outcome.error and "fake.timeout" in outcome.error
    assert time.monotonic() - start < 30
    pid = int((tmp_path / "fake" / ".work" / "self_woman" / "method_out" / "child.pid").read_text())
    time.sleep(0.2)
    assert not alive(pid)  # the method's own child died with it


def test_fake_error_status_and_missing_result(bench, tmp_path):
    [error] = run_fake(bench, tmp_path / "e", "error", ["self_woman"])
    assert error.status == "failed" and "reported 'error': face not found (fake)" in error.error
    [silent] = run_fake(bench, tmp_path / "s", "silent", ["self_woman"])
    assert silent.status == "failed" and "exited without writing its result file" in silent.error


def test_multi_face_crop_and_composite(bench, tmp_path):
    """A single-face method on the 5-face group photo: each face animated on its crop, pasted back."""
    [outcome] = run_fake(bench, tmp_path, "ok", ["multi_group"])
    assert outcome.status == "done", outcome.error
    item = bench.item("multi_group")
    sidecar = json.loads((tmp_path / "fake" / "multi_group.json").read_text())
    assert sidecar["multi_face"] == "crop_and_composite"
    crops = [f["crop"] for f in sidecar["method_details"]["faces"]]
    assert len(crops) == item.n_faces
    for (x, y, side), box in zip(crops, item.faces):  # each crop contains its face
        assert x <= box[0] and y <= box[1] and x + side >= box[2] and y + side >= box[3]
    frames = read_video(tmp_path / "fake" / "multi_group.mp4").astype(np.float32)
    portrait = load_image(bench.path(item.portrait))[:frames.shape[1], :frames.shape[2]].astype(np.float32)
    outside = np.ones(frames.shape[1:3], bool)
    for x, y, side in crops:
        outside[y:y + side, x:x + side] = False
    assert np.abs(frames[0][outside] - portrait[outside]).mean() < 2.5  # untouched (H.264 noise only)
    for x0, y0, x1, y1 in (map(int, b) for b in item.faces):  # the fake darkens frame 0 to 60 %
        ratio = frames[0, y0:y1, x0:x1].mean() / portrait[y0:y1, x0:x1].mean()
        assert 0.55 < ratio < 0.7


def test_jobfile_job_carries_one_driving_video_per_face(bench, tmp_path):
    adapter = get_adapter("fake", fake_table("ok", native_multi_face=True))
    [outcome] = generate_items(adapter, bench, [bench.item("multi_video")], tmp_path, keep_work=True)
    assert outcome.status == "done", outcome.error
    job = json.loads((tmp_path / "fake" / ".work" / "multi_video" / "job.json").read_text())
    assert job["protocol"] == "exprbench-job/1" and len(job["driving"]) == 2 == len(job["faces"])
    left, right = (read_video(p, [0])[0] for p in job["driving"])  # split left to right: man, then woman
    man, woman = (read_video(bench.path(n), [0])[0] for n in ("man.mp4", "woman.mp4"))

    def found_in(clip: np.ndarray, frame: np.ndarray) -> float:
        import cv2

        small = cv2.resize(clip, (clip.shape[1] // 2, clip.shape[0] // 2))
        scaled = cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2))
        return float(cv2.matchTemplate(scaled, small, cv2.TM_CCOEFF_NORMED).max())

    assert left.shape[0] == left.shape[1] and right.shape[0] == right.shape[1]
    assert found_in(left, man) > 0.9 and found_in(right, woman) > 0.9
    assert found_in(left, woman) < 0.6 and found_in(right, man) < 0.6


def test_inprocess_fantasyportrait_fails_clearly_without_weights_or_gpu(tmp_path):
    with pytest.raises(InputError, match=r"set fantasyportrait\.checkpoints"):
        get_adapter("fantasyportrait", {"wan_dir": str(tmp_path)})
    model_dir = tmp_path / "fp"
    model_dir.mkdir()
    with pytest.raises(InputError, match=r"fantasyportrait_model\.ckpt: FantasyPortrait weight file is missing"):
        get_adapter("fantasyportrait", {"checkpoints": str(model_dir), "wan_dir": str(tmp_path)})
    for name in ("fantasyportrait_model.ckpt", "face_det.onnx", "face_landmark.onnx", "pd_fpg.pth"):
        (model_dir / name).touch()
    adapter = get_adapter("fantasyportrait", {"checkpoints": str(model_dir), "wan_dir": str(tmp_path)})
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="needs a CUDA GPU"):
            adapter.generate(make_job(tmp_path / "job"))
