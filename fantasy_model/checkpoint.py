"""Loading the FantasyPortrait adapter weights, strictly.

Two on-disk layouts are accepted (spec §9.2, §9.3):

* the official ``fantasyportrait_model.ckpt``: a dict of four state dicts ``proj_model``,
  ``mouth_proj_model``, ``emo_proj_model`` and ``ip_adapter`` (keys
  ``blocks.{i}.cross_attn.processor.ip_adapter_single_stream_{k,v}_proj.weight``), read with
  ``torch.load(weights_only=True)``;
* a flat safetensors repack with prefixes ``proj_model.``, ``mouth_proj_model.``,
  ``emo_proj_model.``, ``ip_adapter.blocks.{i}.cross_attn.[processor.]...`` and optionally ``pd_fpg.``.

Both are normalised to one flat layout, then every key and shape is checked against the model
before anything is copied; the first mismatch raises `CheckpointError` naming the file.
The release loads with ``strict=False`` everywhere, which hides such mismatches.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from fantasy_model.configs import OFFICIAL_ADAPTER, AdapterConfig
from fantasy_model.expression_encoder import ExpressionEncoder

ENCODER_PARTS = ("proj_model", "mouth_proj_model", "emo_proj_model")
_IP_KEY = re.compile(r"^blocks\.(\d+)\.cross_attn\.(?:processor\.)?(ip_adapter_single_stream_[kv]_proj\.weight)$")


class CheckpointError(ValueError):
    """A checkpoint file does not match the model; the message names the file and the first problem."""


def ip_key(layer: int, which: str) -> str:
    """Flat-layout key of one expression-attention projection (`which` is "k" or "v")."""
    return f"ip_adapter.blocks.{layer}.cross_attn.ip_adapter_single_stream_{which}_proj.weight"


def expected_shapes(config: AdapterConfig = OFFICIAL_ADAPTER) -> dict[str, tuple[int, ...]]:
    """Every adapter tensor and its shape, derived from the modules built on the meta device."""
    with torch.device("meta"):
        encoder = ExpressionEncoder(config)
    shapes: dict[str, tuple[int, ...]] = {}
    for part in ENCODER_PARTS:
        for name, tensor in getattr(encoder, part).state_dict().items():
            shapes[f"{part}.{name}"] = tuple(tensor.shape)
    for layer in range(config.num_layers):
        for which in ("k", "v"):
            shapes[ip_key(layer, which)] = (config.hidden_dim, config.context_dim)
    return shapes


def _normalise_ip_key(key: str, path: Path) -> str:
    match = _IP_KEY.match(key)
    if match is None:
        raise CheckpointError(f"{path}: unexpected ip_adapter key {key!r}; is this a FantasyPortrait checkpoint?")
    return f"ip_adapter.blocks.{match.group(1)}.cross_attn.{match.group(2)}"


def read_adapter_file(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Read either layout into (adapter tensors in the flat layout, PD-FGC tensors if bundled)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: FantasyPortrait checkpoint not found; download fantasyportrait_model.ckpt from "
            "Hugging Face acvlab/FantasyPortrait and pass its path"
        )
    adapter: dict[str, torch.Tensor] = {}
    pd_fgc: dict[str, torch.Tensor] = {}
    if path.suffix == ".safetensors":
        for key, tensor in load_file(str(path)).items():
            if key.startswith("pd_fpg."):
                pd_fgc[key[len("pd_fpg.") :]] = tensor
            elif key.startswith("ip_adapter."):
                adapter[_normalise_ip_key(key[len("ip_adapter.") :], path)] = tensor
            else:
                adapter[key] = tensor
        return adapter, pd_fgc
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle errors carry no file name; add it
        raise CheckpointError(f"{path}: cannot be read as a weights-only torch checkpoint ({error})") from error
    expected_parts = set(ENCODER_PARTS) | {"ip_adapter"}
    if not isinstance(raw, dict) or set(raw) != expected_parts:
        found = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise CheckpointError(f"{path}: expected a dict with parts {sorted(expected_parts)}, found {found}")
    for part in ENCODER_PARTS:
        for key, tensor in raw[part].items():
            adapter[f"{part}.{key}"] = tensor
    for key, tensor in raw["ip_adapter"].items():
        adapter[_normalise_ip_key(key, path)] = tensor
    return adapter, pd_fgc


def check_tensors(
    tensors: dict[str, torch.Tensor], expected: dict[str, tuple[int, ...]], path: str | Path, what: str = ""
) -> None:
    """Raise `CheckpointError` on the first missing, unexpected or wrongly shaped tensor.

    ``what`` names the kind of key in the message (e.g. ``"PD-FGC "``)."""
    missing = sorted(set(expected) - set(tensors))
    if missing:
        raise CheckpointError(f"{path}: missing {what}key {missing[0]!r} ({len(missing)} missing in total)")
    unexpected = sorted(set(tensors) - set(expected))
    if unexpected:
        raise CheckpointError(
            f"{path}: unexpected {what}key {unexpected[0]!r} ({len(unexpected)} unexpected in total)")
    for key in sorted(expected):
        if tuple(tensors[key].shape) != expected[key]:
            raise CheckpointError(
                f"{path}: {what}key {key!r} has shape {tuple(tensors[key].shape)}, the model expects {expected[key]}"
            )


def load_adapter_weights(
    path: str | Path, encoder: ExpressionEncoder, transformer: torch.nn.Module
) -> dict[str, torch.Tensor]:
    """Load a checkpoint into the encoder and the transformer's expression processors.

    Returns the PD-FGC tensors bundled in a flat repack (empty for the official ``.ckpt``).
    """
    adapter, pd_fgc = read_adapter_file(path)
    config = encoder.config
    layers = len(transformer.blocks)
    if layers != config.num_layers:
        raise CheckpointError(f"{path}: the transformer has {layers} blocks but the adapter config says {config.num_layers}")
    check_tensors(adapter, expected_shapes(config), path)
    for part in ENCODER_PARTS:
        prefix = f"{part}."
        state = {k[len(prefix) :]: v for k, v in adapter.items() if k.startswith(prefix)}
        getattr(encoder, part).load_state_dict(state, strict=True, assign=_on_meta(encoder))
    for layer, block in enumerate(transformer.blocks):
        processor = block.attn2.processor
        state = {
            f"ip_adapter_single_stream_{w}_proj.weight": adapter[ip_key(layer, w)].to(processor.ip_adapter_single_stream_k_proj.weight.dtype)
            for w in ("k", "v")
        }
        processor.load_state_dict(state, strict=True, assign=_on_meta(processor))
    return pd_fgc


def _on_meta(module: torch.nn.Module) -> bool:
    return any(p.device.type == "meta" for p in module.parameters())


def save_flat_safetensors(
    path: str | Path, adapter: dict[str, torch.Tensor], pd_fgc: dict[str, torch.Tensor] | None = None
) -> None:
    """Write the flat repack (safe to load: no pickle), optionally bundling PD-FGC under ``pd_fpg.``."""
    tensors = {k: v.contiguous() for k, v in adapter.items()}
    tensors.update({f"pd_fpg.{k}": v.contiguous() for k, v in (pd_fgc or {}).items()})
    save_file(tensors, str(path))


def official_layout(adapter: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """Flat layout -> the official four-part dict (what `fantasyportrait_model.ckpt` holds)."""
    parts: dict[str, dict[str, torch.Tensor]] = {p: {} for p in (*ENCODER_PARTS, "ip_adapter")}
    for key, tensor in adapter.items():
        part, rest = key.split(".", 1)
        if part == "ip_adapter":
            rest = rest.replace(".cross_attn.", ".cross_attn.processor.")
        parts[part][rest] = tensor
    return parts
