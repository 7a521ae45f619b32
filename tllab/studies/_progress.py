"""The optional progress bar of the longer studies."""

from __future__ import annotations


def progress_bar(iterable, progress: bool, desc: str, *, leave: bool = False):
    """``iterable`` wrapped in a tqdm bar when ``progress`` is True, else unchanged."""
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool; got {progress!r}")
    if not progress:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, leave=leave)
