"""Helpers shared by the selective-transfer studies."""

from __future__ import annotations

import torch

TEST_SEED_OFFSET = 10_000
"""Test samples for seed ``s`` are drawn with seed ``s + TEST_SEED_OFFSET``."""

_REG = 2e-2  # the gated classifier's weight decay 1e-2 · ||W||², in weighted_logistic_regression's
# (reg / 2) · ||θ||² convention: the "no gate" baseline is regularised like the gated model.


def _accuracy(pred: torch.Tensor, y: torch.Tensor) -> float:
    return float((pred.long() == y).double().mean())
