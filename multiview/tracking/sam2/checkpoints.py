"""SAM 2.1 model names, their configs, the official checkpoint files and how to get them.

The download addresses are those of Meta's own ``checkpoints/download_ckpts.sh``
(SAM 2.1 release of 2024-09-28). A checkpoint is the official file format: a
``torch.save`` dict whose key ``"model"`` holds the model's state dict. Files are
always loaded with ``torch.load(..., weights_only=True)``: a checkpoint can never
run code.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import CheckpointError, Hint, ValidationError

log = logging.getLogger(__name__)

#: Base address of the SAM 2.1 checkpoints (``SAM2p1_BASE_URL`` in download_ckpts.sh).
BASE_URL = "https://dl.fbaipublicfiles.com/segment_anything_2/092824"
#: Environment variable that overrides the checkpoint folder.
DIR_ENV = "MULTIVIEW_CHECKPOINTS"


@dataclass(frozen=True)
class ModelSpec:
    """One SAM 2.1 model.

    Attributes:
        name: model name used on the command line, e.g. ``"sam2.1_hiera_tiny"``.
        config: hydra config name inside the sam2 package.
        filename: checkpoint file name (as published).
        url: official download address.
        approx_mb: approximate file size, megabytes (for messages only).
    """

    name: str
    config: str
    filename: str
    url: str
    approx_mb: int


def _spec(name: str, cfg: str, mb: int) -> ModelSpec:
    return ModelSpec(name, f"configs/sam2.1/sam2.1_hiera_{cfg}.yaml", f"{name}.pt", f"{BASE_URL}/{name}.pt", mb)


MODELS: dict[str, ModelSpec] = {
    s.name: s
    for s in (
        _spec("sam2.1_hiera_tiny", "t", 149),
        _spec("sam2.1_hiera_small", "s", 176),
        _spec("sam2.1_hiera_base_plus", "b+", 309),
        _spec("sam2.1_hiera_large", "l", 856),
    )
}
DEFAULT_MODEL = "sam2.1_hiera_tiny"


def model_spec(name: str) -> ModelSpec:
    """The spec of a model name.

    Raises:
        ValidationError: unknown name (the message lists the known ones).
    """
    try:
        return MODELS[name]
    except KeyError:
        raise ValidationError(f"model '{name}' is unknown; use one of: {', '.join(MODELS)}") from None


def checkpoint_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Folder holding checkpoints: ``path``, else ``$MULTIVIEW_CHECKPOINTS``, else ``./checkpoints``."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get(DIR_ENV) or "checkpoints")


def default_checkpoint(name: str, directory: str | os.PathLike[str] | None = None) -> Path:
    """Where the checkpoint of model ``name`` lives by default."""
    return checkpoint_dir(directory) / model_spec(name).filename


def resolve_checkpoint(name: str = DEFAULT_MODEL, checkpoint: str | os.PathLike[str] | None = None) -> Path:
    """The checkpoint file of model ``name``: ``checkpoint`` when given, else :func:`default_checkpoint`.

    The one place that decides which file a model loads (the tracker, the first-click
    candidates of ``multiview prompt`` and the workbench's engine choice all ask here).
    The file may not exist; see :func:`missing_checkpoint`.

    Raises:
        ValidationError: unknown model name.
    """
    return Path(checkpoint) if checkpoint is not None else default_checkpoint(name)


def download_hint(name: str, path: Path) -> Hint:
    """The command that fetches model ``name``'s checkpoint into ``path``'s folder."""
    cmd = f"multiview checkpoints download {name}"
    if path.parent != checkpoint_dir():
        cmd += f" --dir {path.parent}"
    return Hint(command=cmd)


def missing_checkpoint(name: str, path: Path, *, given: bool = False) -> CheckpointError:
    """The error for a checkpoint file that is not there, with the command that fetches it as hint.

    Args:
        given: the path was given explicitly (``--checkpoint``) rather than the default.
    """
    if given and path.parent != default_checkpoint(name).parent:
        return CheckpointError(
            f"checkpoint '{path}' does not exist; check the path or download it", hint=download_hint(name, path)
        )
    return CheckpointError(
        f"checkpoint '{path}' for model {name} is missing; download it", hint=download_hint(name, path)
    )


def load_state_dict(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read an official-format checkpoint safely (``weights_only=True``).

    Returns:
        The model state dict (parameter name -> tensor).

    Raises:
        CheckpointError: missing, unreadable or not the official format.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint '{path}' does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types on bad files
        raise CheckpointError(
            f"checkpoint '{path}' cannot be read as a safe torch file ({type(exc).__name__}); "
            "it is damaged or not a checkpoint: download it again"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
        raise CheckpointError(
            f"checkpoint '{path}' is not a SAM 2 checkpoint (no 'model' state dict); download it again"
        )
    return data["model"]


def load_into(model: Any, path: str | os.PathLike[str]) -> None:
    """Load an official checkpoint into a built model, requiring an exact key match.

    Raises:
        CheckpointError: unreadable file, or keys/shapes that do not match the model
            (e.g. a checkpoint of another model size).
    """
    sd = load_state_dict(path)
    try:
        missing, unexpected = model.load_state_dict(sd, strict=False)
    except RuntimeError as exc:  # shape mismatch
        first = str(exc).splitlines()[1:2] or [str(exc)[:200]]
        raise CheckpointError(
            f"checkpoint '{path}' does not fit this model ({first[0].strip()}); is it the right model size?"
        ) from exc
    if missing or unexpected:
        raise CheckpointError(
            f"checkpoint '{path}' does not fit this model ({len(missing)} missing, {len(unexpected)} unexpected "
            f"weights, e.g. {(list(missing) + list(unexpected))[0]}); is it the right model size?"
        )


def fingerprint(path: str | os.PathLike[str]) -> str:
    """Cheap identity of a checkpoint file: sha256 of its size, first and last MiB (16 hex)."""
    path = Path(path)
    h = hashlib.sha256()
    size = path.stat().st_size
    h.update(str(size).encode())
    with open(path, "rb") as f:
        h.update(f.read(1 << 20))
        if size > (2 << 20):
            f.seek(-(1 << 20), os.SEEK_END)
            h.update(f.read())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class CheckpointStatus:
    """State of one model's checkpoint in a folder.

    Attributes:
        spec: the model.
        path: where the file is expected.
        present: the file exists.
        size: its size in bytes (0 if absent).
        ok: it loaded and fits the model (None when not verified).
        message: why it is not ok (empty otherwise).
    """

    spec: ModelSpec
    path: Path
    present: bool
    size: int = 0
    ok: bool | None = None
    message: str = ""


def list_checkpoints(directory: str | os.PathLike[str] | None = None) -> list[CheckpointStatus]:
    """Every known model with whether its checkpoint is present (not verified)."""
    out = []
    for spec in MODELS.values():
        p = checkpoint_dir(directory) / spec.filename
        out.append(CheckpointStatus(spec, p, p.is_file(), p.stat().st_size if p.is_file() else 0))
    return out


__all__ = [
    "BASE_URL",
    "DEFAULT_MODEL",
    "MODELS",
    "CheckpointStatus",
    "ModelSpec",
    "checkpoint_dir",
    "default_checkpoint",
    "download_hint",
    "fingerprint",
    "list_checkpoints",
    "load_into",
    "load_state_dict",
    "missing_checkpoint",
    "model_spec",
    "resolve_checkpoint",
]
