"""Memory modes: offload that really keeps weights off the accelerator, fp8 storage, VAE tiling.

The release moves the whole DiT to the GPU *after* enabling its offload wrappers, which silently
defeats them (spec §11). Here each mode is applied once through diffusers' own hooks and
`check_offload` verifies, right after setup, that the transformer's weights are still on the CPU.

The same grouping rules are used by `resident_parameter_bytes` to compute, on the meta device, how
many parameter bytes each mode keeps on the accelerator at its peak (see benchmarks/fantasy_memory.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

import torch
from torch import nn

OffloadMode = Literal["none", "model_cpu_offload", "group_offload", "sequential"]
OFFLOAD_MODES: tuple[str, ...] = ("none", "model_cpu_offload", "group_offload", "sequential")
VAE_TILE = dict(tile_sample_min_height=240, tile_sample_min_width=416, tile_sample_stride_height=120, tile_sample_stride_width=208)
"""The release's VAE tiles, (30, 52) latents with stride (15, 26), in pixels."""
FP8 = torch.float8_e4m3fn
_CASTABLE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def enable_fp8_storage(transformer: nn.Module, compute_dtype: torch.dtype = torch.bfloat16) -> None:
    """Store the transformer's linear/conv weights in fp8 and upcast per layer for compute."""
    transformer.enable_layerwise_casting(storage_dtype=FP8, compute_dtype=compute_dtype)


def configure_memory(
    pipe,
    device: str | torch.device = "cuda",
    offload: OffloadMode = "model_cpu_offload",
    fp8: bool = False,
    vae_tiling: bool = True,
    use_stream: bool | None = None,
) -> None:
    """Apply one memory mode to a `FantasyPortraitPipeline`; never move it to `device` afterwards.

    none: everything resident. model_cpu_offload: one component on the device at a time.
    group_offload: the transformer one block at a time (prefetching the next with a CUDA stream),
    the other components leaf by leaf. sequential: every component leaf by leaf (slowest, smallest).
    """
    device = torch.device(device)
    if use_stream is None:
        use_stream = device.type == "cuda"
    if fp8:
        enable_fp8_storage(pipe.transformer, compute_dtype=pipe.transformer.dtype)
    if vae_tiling:
        pipe.vae.enable_tiling(**VAE_TILE)
    if offload == "none":
        pipe.to(device)
    elif offload == "model_cpu_offload":
        pipe.enable_model_cpu_offload(device=device)
    elif offload in ("group_offload", "sequential"):
        for name, component in pipe.components.items():
            if not isinstance(component, nn.Module):
                continue
            block_level = offload == "group_offload" and name == "transformer"
            kwargs = dict(onload_device=device, offload_device=torch.device("cpu"), use_stream=use_stream)
            if block_level:
                kwargs.update(offload_type="block_level", num_blocks_per_group=1)
            else:
                kwargs.update(offload_type="leaf_level")
            if hasattr(component, "enable_group_offload"):
                component.enable_group_offload(**kwargs)
            else:
                from diffusers.hooks import apply_group_offloading

                apply_group_offloading(component, **kwargs)
    else:
        raise ValueError(f"unknown offload mode {offload!r}; choose one of {OFFLOAD_MODES}")
    if offload != "none":
        check_offload(pipe.transformer, device)


def check_offload(transformer: nn.Module, device: torch.device) -> None:
    """Fail loudly if offloading left transformer weights on the accelerator (the release's bug)."""
    if device.type == "cpu":
        return
    resident = sum(p.numel() for p in transformer.parameters() if p.device.type == device.type)
    if resident:
        raise RuntimeError(
            f"offload is defeated: {resident:,} transformer parameters are on {device} right after setup; "
            "do not call .to(device) on the pipeline or transformer after configure_memory"
        )


# ----------------------------------------------------------------------------- accounting


def _fp8_skip_patterns(module: nn.Module) -> tuple[str, ...]:
    """The module-name regexes diffusers' `enable_layerwise_casting` leaves in the compute dtype."""
    from diffusers.hooks.layerwise_casting import DEFAULT_SKIP_MODULES_PATTERN

    return (
        tuple(DEFAULT_SKIP_MODULES_PATTERN)
        + tuple(getattr(module, "_keep_in_fp32_modules", None) or ())
        + tuple(getattr(module, "_skip_layerwise_casting_patterns", None) or ())
    )


def _module_bytes(
    mod_name: str, module: nn.Module, dtype: torch.dtype, keep_fp32: Iterable[str], fp8_skip: tuple[str, ...] | None
) -> int:
    """Bytes of the module's own parameters under the loading dtype policy (and fp8 casting).

    Like diffusers' `from_pretrained`, a parameter stays fp32 when a `_keep_in_fp32_modules` entry
    is one of the dot-separated parts of its name.
    """
    keep = set(keep_fp32)
    fp8 = fp8_skip is not None and isinstance(module, _CASTABLE) and not any(re.search(p, mod_name) for p in fp8_skip)
    total = 0
    for p_name, param in module.named_parameters(recurse=False):
        parts = set(f"{mod_name}.{p_name}".split("."))
        if parts & keep:
            total += param.numel() * 4
        elif fp8:
            total += param.numel()  # one byte per fp8 value
        else:
            total += param.numel() * torch.empty((), dtype=dtype).element_size()
    return total


def _leaf_bytes(root: nn.Module, dtype: torch.dtype, keep_fp32: Iterable[str], fp8_skip: tuple[str, ...] | None) -> dict[str, int]:
    """Parameter bytes per module, counting only each module's own (non-recursive) parameters."""
    sizes = {name: _module_bytes(name, module, dtype, keep_fp32, fp8_skip) for name, module in root.named_modules()}
    return {name: size for name, size in sizes.items() if size}


def _top_level_groups(sizes: dict[str, int], root: nn.Module, blocks_per_group: int) -> tuple[list[int], int]:
    """diffusers' block-level grouping: chunks of ModuleList/Sequential children, plus one group for the rest."""
    groups: list[int] = []
    grouped_prefixes: list[str] = []
    for child_name, child in root.named_children():
        if isinstance(child, (nn.ModuleList, nn.Sequential)):
            blocks = [f"{child_name}.{i}" for i in range(len(child))]
            for start in range(0, len(blocks), blocks_per_group):
                members = blocks[start : start + blocks_per_group]
                groups.append(sum(v for k, v in sizes.items() if any(k == m or k.startswith(m + ".") for m in members)))
            grouped_prefixes.append(child_name)
    rest = sum(v for k, v in sizes.items() if not any(k == p or k.startswith(p + ".") for p in grouped_prefixes))
    return groups, rest


def resident_bytes_per_component(
    components: dict[str, nn.Module],
    mode: OffloadMode,
    dtypes: dict[str, torch.dtype],
    fp8_transformer: bool = False,
    prefetch: bool = True,
) -> dict[str, int]:
    """Parameter bytes each component keeps on the accelerator while it runs under `mode`.

    `prefetch` models the CUDA-stream variant that onloads the next group while the current one
    computes (two groups resident). Activations are not included.
    """
    if mode not in OFFLOAD_MODES:
        raise ValueError(f"unknown offload mode {mode!r}; choose one of {OFFLOAD_MODES}")
    resident: dict[str, int] = {}
    for name, module in components.items():
        keep = getattr(module, "_keep_in_fp32_modules", None) or []
        fp8_skip = _fp8_skip_patterns(module) if fp8_transformer and name == "transformer" else None
        sizes = _leaf_bytes(module, dtypes[name], keep, fp8_skip)
        resident_groups = 2 if prefetch else 1
        if mode in ("none", "model_cpu_offload"):
            resident[name] = sum(sizes.values())
        elif mode == "group_offload" and name == "transformer":
            groups, rest = _top_level_groups(sizes, module, 1)
            resident[name] = rest + sum(sorted(groups, reverse=True)[:resident_groups])
        else:
            resident[name] = sum(sorted(sizes.values(), reverse=True)[:resident_groups])
    return resident


def peak_resident_bytes(per_component: dict[str, int], mode: OffloadMode) -> int:
    """All components stay resident in mode "none"; otherwise only one component runs at a time."""
    return sum(per_component.values()) if mode == "none" else max(per_component.values())
