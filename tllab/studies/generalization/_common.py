"""Private helpers shared by the generalisation studies."""

from __future__ import annotations

from ..._checks import check_int


def _seeds(seeds) -> list[int]:
    out = [check_int(s, "seeds", min_value=0) for s in seeds]
    if not out:
        raise ValueError("seeds must not be empty")
    return out
