"""Helpers shared by the selective-transfer modules: label checks and a seeded full-batch loop."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

from .._checks import check_int, check_real


def check_labels(y, name: str, n: int, device) -> torch.Tensor:
    """Validate integer class labels of shape ``(n,)``; return them as ``torch.long``."""
    if isinstance(y, (str, bytes, dict)) or y is None:
        raise TypeError(f"{name} must be an array-like of class labels; got {type(y).__name__}")
    try:
        t = y if isinstance(y, torch.Tensor) else torch.as_tensor(y)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{name} must be an array-like of integer class labels") from err
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class labels; got dtype {t.dtype}")
    if t.ndim != 1:
        raise ValueError(f"{name} must be 1-D with shape (n_samples,); got shape "
                         f"{tuple(t.shape)}")
    if t.shape[0] != n:
        raise ValueError(f"{name} must have one label per sample ({n}); got {t.shape[0]}")
    if n and int(t.min()) < 0:
        raise ValueError(f"{name} must be non-negative class indices; got {int(t.min())}")
    return t.to(device=device, dtype=torch.long)


def check_training(n_steps, lr, weight_decay, seed) -> tuple[int, float, float, int]:
    """Validate the arguments every fit routine of :mod:`tllab.selective` shares."""
    return (check_int(n_steps, "n_steps", min_value=1),
            check_real(lr, "lr", low=0.0, low_inclusive=False),
            check_real(weight_decay, "weight_decay", low=0.0),
            check_int(seed, "seed", min_value=0))


def seeded_module(make: Callable[[], nn.Module], seed: int, device, dtype) -> nn.Module:
    """Build a module from the global RNG seeded with ``seed``, without disturbing it."""
    devices = [device] if torch.device(device).type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        module = make()
    return module.to(device=device, dtype=dtype)


def decayed_weights(module: nn.Module) -> list[torch.Tensor]:
    """The weight matrices of the linear layers of ``module`` (no biases, no gates)."""
    return [m.weight for m in module.modules() if isinstance(m, nn.Linear)]


def l2_of_weights(weights: list[torch.Tensor]) -> torch.Tensor:
    """``Σ ||W||²`` over the given weight matrices."""
    return sum((w * w).sum() for w in weights)


def full_batch_adam(params: Iterable[torch.Tensor], loss_fn: Callable[[int], torch.Tensor],
                    n_steps: int, lr: float) -> list[float]:
    """Minimise ``loss_fn(step)`` with Adam for ``n_steps`` steps; return the losses."""
    opt = torch.optim.Adam(list(params), lr=lr)
    history = []
    with torch.enable_grad():
        for step in range(n_steps):
            opt.zero_grad()
            loss = loss_fn(step)
            loss.backward()
            opt.step()
            history.append(float(loss.detach()))
    return history
