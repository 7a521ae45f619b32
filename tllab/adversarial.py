r"""Adversarial domain adaptation (DANN): gradient reversal and a domain discriminator.

A domain discriminator ``D`` learns to tell source features from target features; the
feature extractor ``F`` is trained to make that impossible.  Ganin et al. (2016) do both in one
backward pass by inserting a gradient-reversal layer between ``F`` and ``D``: the identity on
the way forward, multiplication of the gradient by ``-λ`` on the way back.  ``λ`` is ramped up
from 0 with :func:`dann_coefficient` so the discriminator's early, noisy signal does not
disturb the features.  :func:`tllab.adapt.fit_adapted` wires these together.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._checks import check_int, check_real

__all__ = ["grad_reverse", "GradientReversal", "dann_coefficient", "DomainDiscriminator"]


class _GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, coeff):
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * -ctx.coeff, None


def _check_coeff(coeff) -> float:
    return check_real(coeff, "coeff", low=0.0)


def grad_reverse(x: torch.Tensor, coeff: float = 1.0) -> torch.Tensor:
    """Identity on the forward pass; multiplies the gradient by ``-coeff`` on the backward one.

    Parameters
    ----------
    x : torch.Tensor
        Any shape, dtype and device.
    coeff : float, default=1.0
        Non-negative scale ``λ`` of the reversed gradient (0 blocks it).

    Returns
    -------
    torch.Tensor
        A view of ``x`` (same values).

    Examples
    --------
    >>> import torch
    >>> from tllab.adversarial import grad_reverse
    >>> x = torch.ones(3, requires_grad=True)
    >>> grad_reverse(x, 0.5).sum().backward()
    >>> x.grad.tolist()
    [-0.5, -0.5, -0.5]
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor; got {type(x).__name__}")
    return _GradReverse.apply(x, _check_coeff(coeff))


class GradientReversal(nn.Module):
    """Gradient-reversal layer; ``coeff`` may be changed between steps (a schedule).

    Parameters
    ----------
    coeff : float, default=1.0
        Non-negative scale of the reversed gradient; see :func:`grad_reverse`.

    Examples
    --------
    >>> import torch
    >>> from tllab.adversarial import GradientReversal, dann_coefficient
    >>> grl = GradientReversal()
    >>> grl.coeff = dann_coefficient(0.5)
    >>> x = torch.ones(2, requires_grad=True)
    >>> grl(x).sum().backward()
    >>> [round(v, 4) for v in x.grad.tolist()]
    [-0.9866, -0.9866]
    """

    def __init__(self, coeff: float = 1.0) -> None:
        super().__init__()
        self.coeff = coeff

    @property
    def coeff(self) -> float:
        return self._coeff

    @coeff.setter
    def coeff(self, value: float) -> None:
        self._coeff = _check_coeff(value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` unchanged; its gradient is multiplied by ``-coeff``."""
        return grad_reverse(x, self._coeff)

    def extra_repr(self) -> str:
        return f"coeff={self._coeff:g}"


def dann_coefficient(progress: float, gamma: float = 10.0) -> float:
    r"""Ganin et al.'s schedule ``λ(p) = 2 / (1 + exp(-γ p)) - 1`` of the reversal scale.

    It rises from 0 at ``p = 0`` towards 1 (``λ(1) ≈ 0.9999`` for ``γ = 10``).

    Parameters
    ----------
    progress : float
        Training progress ``p`` in [0, 1] (steps done / total steps).
    gamma : float, default=10.0
        Positive steepness ``γ``.

    Returns
    -------
    float

    Examples
    --------
    >>> from tllab.adversarial import dann_coefficient
    >>> dann_coefficient(0.0), round(dann_coefficient(0.1), 4)
    (0.0, 0.4621)
    """
    progress = check_real(progress, "progress", low=0.0, high=1.0)
    gamma = check_real(gamma, "gamma", low=0.0, low_inclusive=False)
    return 2.0 / (1.0 + math.exp(-gamma * progress)) - 1.0


class DomainDiscriminator(nn.Module):
    """A small MLP that scores "is this a source feature?": one logit per row.

    ``in_features → hidden → hidden → 1`` with ReLU activations.  Train it with
    ``nn.BCEWithLogitsLoss`` (label 1 for source, 0 for target) behind a
    :class:`GradientReversal` layer.

    Parameters
    ----------
    in_features : int
        Width of the feature vectors.
    hidden : int, default=64
        Width of the two hidden layers.

    Examples
    --------
    >>> import torch
    >>> from tllab.adversarial import DomainDiscriminator
    >>> DomainDiscriminator(8)(torch.randn(5, 8)).shape
    torch.Size([5])
    """

    def __init__(self, in_features: int, hidden: int = 64) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", min_value=1)
        hidden = check_int(hidden, "hidden", min_value=1)
        self.net = nn.Sequential(
            nn.Linear(self.in_features, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        """One logit per row of the ``(n, in_features)`` features ``f``, shape ``(n,)``."""
        if f.ndim != 2 or f.shape[1] != self.in_features:
            raise ValueError(
                f"f must have shape (n, {self.in_features}); got {tuple(f.shape)}"
            )
        return self.net(f).squeeze(-1)
