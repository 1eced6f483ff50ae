"""Fixtures of the SAM 2 engine tests: a random-initialised tiny model saved as an official checkpoint.

No checkpoint can be downloaded in CI, and the engine's behaviour (plumbing, memory,
corrections, caching, equivalence with sam2's own loop) does not depend on the
weights. The model is built once per test session with a fixed seed, saved in the
official format (``{"model": state_dict}``) and loaded back through the same code
path as a real checkpoint (``load_predictor``, ``weights_only=True``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))  # sam2_helpers, shared with the test modules
from sam2_helpers import IMAGE_SIZE, MODEL


@pytest.fixture(scope="session")
def sam2_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a random-initialised sam2.1_hiera_tiny checkpoint in the official format."""
    from multiview.tracking.sam2.model import build_model

    torch.manual_seed(0)
    model = build_model(MODEL, checkpoint=None, device="cpu", image_size=IMAGE_SIZE)
    path = tmp_path_factory.mktemp("ckpt") / f"{MODEL}.pt"
    torch.save({"model": model.state_dict()}, path)
    return path


@pytest.fixture(scope="session")
def predictor(sam2_checkpoint: Path):
    """The engine's predictor loaded from ``sam2_checkpoint`` at 256 px on CPU."""
    from multiview.tracking.sam2.model import load_predictor

    model, _ = load_predictor(MODEL, checkpoint=sam2_checkpoint, device="cpu", image_size=IMAGE_SIZE)
    return model
