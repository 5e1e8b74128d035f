"""Loading the FantasyPortrait adapter weights, strictly.

Two on-disk layouts are accepted (spec §9.2, §9.3):

* the official ``fantasyportrait_model.ckpt``: a dict of four state dicts ``proj_model``,
  ``mouth_proj_model``, ``emo_proj_model`` and ``ip_adapter`` (keys
  ``blocks.{i}.cross_attn.processor.ip_adapter_single_stream_{k,v}_proj.weight``), read with
  ``torch.load(weights_only=True)``;
* a flat safetensors repack with prefixes ``proj_model.``, ``mouth_proj_model.``,
  ``emo_proj_model.``, ``ip_adapter.blocks.{i}.cross_attn.[processor.]...`` and optionally ``pd_fpg.``.

Both are normalised to one flat layout, then every key and shape is checked against the model
before anything is copied: a missing tensor or a wrong shape raises `CheckpointError` naming the
file. Tensors the model has no place for (extra top-level parts of the ``.ckpt``, extra keys in a
part, optimiser or EMA leftovers) are reported in one warning and dropped, because the release
loads these files too (its ``.ckpt`` loader reads only the four named parts and ``pd_fpg.pth`` is
loaded with ``strict=False``), so a file that works there must work here. The release's
``strict=False`` also hides *missing* tensors; here those are errors.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from fantasy_model.configs import OFFICIAL_ADAPTER, AdapterConfig
from fantasy_model.expression_encoder import ExpressionEncoder

ENCODER_PARTS = ("proj_model", "mouth_proj_model", "emo_proj_model")
logger = logging.getLogger(__name__)
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


def _normalise_ip_key(key: str) -> str:
    """Flat key of an ``ip_adapter`` tensor; keys of another form stay as they are (reported as extra)."""
    match = _IP_KEY.match(key)
    if match is None:
        return f"ip_adapter.{key}"
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
                adapter[_normalise_ip_key(key[len("ip_adapter.") :])] = tensor
            else:
                adapter[key] = tensor
        return adapter, pd_fgc
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle errors carry no file name; add it
        raise CheckpointError(f"{path}: cannot be read as a weights-only torch checkpoint ({error})") from error
    expected_parts = (*ENCODER_PARTS, "ip_adapter")
    if not isinstance(raw, dict) or not set(expected_parts) <= set(raw):
        found = sorted(map(str, raw)) if isinstance(raw, dict) else type(raw).__name__
        raise CheckpointError(f"{path}: expected a dict with parts {sorted(expected_parts)}, found {found}")
    extra_parts = sorted(str(k) for k in raw if k not in expected_parts)
    if extra_parts:
        logger.warning("%s: ignoring %d top-level entries the adapter does not use: %s", path, len(extra_parts),
                       ", ".join(extra_parts[:5]))
    for part in expected_parts:
        if not isinstance(raw[part], dict):
            raise CheckpointError(f"{path}: part {part!r} is a {type(raw[part]).__name__}, expected a state dict")
    for part in ENCODER_PARTS:
        for key, tensor in raw[part].items():
            adapter[f"{part}.{key}"] = tensor
    for key, tensor in raw["ip_adapter"].items():
        adapter[_normalise_ip_key(key)] = tensor
    return adapter, pd_fgc


def check_tensors(
    tensors: dict[str, torch.Tensor], expected: dict[str, tuple[int, ...]], path: str | Path, what: str = ""
) -> list[str]:
    """Raise `CheckpointError` on the first missing or wrongly shaped tensor; return the unexpected keys.

    ``what`` names the kind of key in the message (e.g. ``"PD-FGC "``)."""
    missing = sorted(set(expected) - set(tensors))
    if missing:
        raise CheckpointError(f"{path}: missing {what}key {missing[0]!r} ({len(missing)} missing in total)")
    for key in sorted(expected):
        if tuple(tensors[key].shape) != expected[key]:
            raise CheckpointError(
                f"{path}: {what}key {key!r} has shape {tuple(tensors[key].shape)}, the model expects {expected[key]}"
            )
    return sorted(set(tensors) - set(expected))


def select_expected(
    tensors: dict[str, torch.Tensor], expected: dict[str, tuple[int, ...]], path: str | Path, what: str = ""
) -> dict[str, torch.Tensor]:
    """`check_tensors`, then the expected tensors only; extras are named in one warning and dropped."""
    unexpected = check_tensors(tensors, expected, path, what)
    if unexpected:
        logger.warning("%s: ignoring %d unexpected %stensors the model has no place for (first: %s)",
                       path, len(unexpected), what, ", ".join(repr(k) for k in unexpected[:3]))
    return {key: tensors[key] for key in expected}


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
    adapter = select_expected(adapter, expected_shapes(config), path)
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
