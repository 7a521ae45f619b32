"""Private helpers shared by the foundations studies: seeds, progress bars, relabelling."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..._checks import check_int
from .classifier import N_CLASSES


def _progress(iterable, progress: bool, desc: str):
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool; got {progress!r}")
    if not progress:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, leave=False)


def _seeds(seeds) -> list[int]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, (Sequence, range, np.ndarray)):
        raise TypeError(f"seeds must be a sequence of ints; got {type(seeds).__name__}")
    out = [check_int(s, "seeds", min_value=0) for s in seeds]
    if not out:
        raise ValueError("seeds must not be empty")
    return out


def _relabel(y: torch.Tensor) -> torch.Tensor:
    """The concept-shifted source task: class ``k`` is called ``k + 1`` (mod 10)."""
    return (y + 1) % N_CLASSES
