"""One place that decides where tensors live and how runs are seeded.

The default device is chosen in the order CUDA → MPS → CPU.  Set the environment
variable ``TLLAB_DEVICE`` (e.g. ``TLLAB_DEVICE=cpu``) to override the choice.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["default_device", "seed_everything", "as_tensor"]

_ENV_VAR = "TLLAB_DEVICE"


def default_device() -> torch.device:
    """Return the device new tensors should be created on.

    ``TLLAB_DEVICE`` wins when set; otherwise CUDA, then Apple's MPS, then CPU.

    Returns
    -------
    torch.device

    Examples
    --------
    >>> import tllab
    >>> tllab.default_device().type in {"cpu", "cuda", "mps"}
    True
    """
    requested = os.environ.get(_ENV_VAR, "").strip()
    if requested:
        try:
            device = torch.device(requested)
        except RuntimeError as err:
            raise ValueError(
                f"{_ENV_VAR} must name a torch device such as 'cpu' or 'cuda:0'; got {requested!r}"
            ) from err
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"{_ENV_VAR}={requested!r} but CUDA is not available here")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch and return a CPU generator seeded the same way.

    Parameters
    ----------
    seed : int, default=0
        Non-negative integer seed.

    Returns
    -------
    torch.Generator

    Examples
    --------
    >>> import tllab, torch
    >>> _ = tllab.seed_everything(0); a = torch.rand(2)
    >>> _ = tllab.seed_everything(0); b = torch.rand(2)
    >>> bool(torch.equal(a, b))
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative int; got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - seeding the legacy global state is the point
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def as_tensor(x, *, device: torch.device | str | None = None, dtype: torch.dtype | None = None):
    """Convert ``x`` to a floating tensor without moving tensors that are already placed.

    NumPy arrays and Python sequences land on ``device`` (CPU when None); floating
    arrays keep their precision, integer and boolean data become the default dtype.

    Examples
    --------
    >>> import numpy as np, tllab
    >>> tllab.as_tensor(np.ones(3)).dtype
    torch.float64
    """
    if isinstance(x, torch.Tensor):
        t = x
        if device is not None:
            t = t.to(device)
    else:
        t = torch.as_tensor(np.asarray(x), device=device)
    if dtype is not None:
        return t.to(dtype)
    if not (t.is_floating_point() or t.is_complex()):  # complex is left for the checks to refuse
        t = t.to(torch.get_default_dtype())
    return t
