"""Helpers shared by the selective-transfer modules: training checks, a seeded full-batch loop."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

from .._checks import check_int, check_real


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
