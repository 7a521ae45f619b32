"""Private helper shared by the foundations studies: the concept-shift relabelling."""

from __future__ import annotations

import torch

from .classifier import N_CLASSES


def _relabel(y: torch.Tensor) -> torch.Tensor:
    """The concept-shifted source task: class ``k`` is called ``k + 1`` (mod 10)."""
    return (y + 1) % N_CLASSES
