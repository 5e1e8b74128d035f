"""The adapter interface every method implements, and the registry ``exprbench generate`` looks names up in.

An adapter only has to produce *some* video for a job; the harness (``harness.py``) normalises fps,
frame count and size and records what it changed, so an adapter stays a thin description of how its
method is called. ``native_multi_face`` says whether the method animates several faces with their own
driving videos in one pass; if not, the harness runs it once per face on crops and composites
(``multiface.py``). ``needs_face_crop`` marks methods that resize the whole input to a square instead of
finding the face themselves (X-Portrait, Follow-Your-Emoji): they always get a face-centred crop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from baselines.job import Job, MethodOutput
from exprbench.errors import ExprBenchError


@runtime_checkable
class Adapter(Protocol):
    name: str
    version: str  # bump whenever a change alters the generated videos
    native_multi_face: bool
    max_native_faces: int | None  # None: any number; else the wrapper handles items with more faces
    needs_face_crop: bool

    def generate(self, job: Job) -> MethodOutput:
        """Write a video into ``job.work_dir`` and describe it."""
        ...

    def config(self) -> dict[str, Any]:
        """Everything that changes the output (recorded in every result's sidecar)."""
        ...


AdapterFactory = Callable[[dict[str, Any]], Adapter]
_REGISTRY: dict[str, AdapterFactory] = {}
_BUILTINS_LOADED = False


class UnknownMethod(ExprBenchError):
    pass


def register_adapter(name: str, factory: AdapterFactory) -> None:
    """Register ``factory(method_config) -> Adapter`` under ``name`` (the results folder name)."""
    if name in _REGISTRY:
        raise ValueError(f"adapter {name!r} is already registered")
    _REGISTRY[name] = factory


def adapter_names() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


def get_adapter(name: str, method_config: dict[str, Any] | None = None) -> Adapter:
    """The adapter for ``name``, built from its section of the methods config (``{}`` if none)."""
    _load_builtins()
    factory = _REGISTRY.get(name)
    if factory is None:
        if method_config and method_config.get("kind") == "jobfile":
            from baselines.external.methods import JobFileAdapter

            return JobFileAdapter(name, method_config)
        raise UnknownMethod(f"unknown method {name!r}: choose one of {', '.join(adapter_names())}, or add "
                            f"[{name}] with kind = \"jobfile\" to the methods config")
    return factory(method_config or {})


def _load_builtins() -> None:
    """Import the modules that register the shipped adapters (once; imports stay lazy for speed)."""
    global _BUILTINS_LOADED
    if _BUILTINS_LOADED:
        return
    _BUILTINS_LOADED = True
    import baselines.external.methods
    import baselines.fantasyportrait
    import baselines.static
    import baselines.warp  # noqa: F401
