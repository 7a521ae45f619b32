"""Private helpers shared by the foundations studies: progress bars, relabelling."""

from __future__ import annotations

import torch

from .classifier import N_CLASSES


def _progress(iterable, progress: bool, desc: str):
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool; got {progress!r}")
    if not progress:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, leave=False)


def _relabel(y: torch.Tensor) -> torch.Tensor:
    """The concept-shifted source task: class ``k`` is called ``k + 1`` (mod 10)."""
    return (y + 1) % N_CLASSES
