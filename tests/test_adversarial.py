"""Gradient reversal, the DANN schedule and the domain discriminator (tllab.adversarial)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tllab.adversarial import (
    DomainDiscriminator,
    GradientReversal,
    dann_coefficient,
    grad_reverse,
)

HAS_CUDA = torch.cuda.is_available()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed", range(3))
def test_grad_reverse_is_identity_forward_and_flips_and_scales_backward(dtype, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 3, 2, generator=g, dtype=dtype, requires_grad=True)
    upstream = torch.randn(4, 3, 2, generator=g, dtype=dtype)
    coeff = float(torch.rand(1, generator=g)) * 3
    y = grad_reverse(x, coeff)
    assert torch.equal(y, x)
    y.backward(upstream)
    assert torch.equal(x.grad, upstream * -coeff)


def test_gradient_reversal_negates_the_gradient_through_a_network():
    """d/dθ of loss(D(GRL(f))) equals -coeff times the gradient without the layer."""
    torch.manual_seed(0)
    f, d = torch.nn.Linear(3, 4), torch.nn.Linear(4, 1)
    x = torch.randn(8, 3)
    d(f(x)).sum().backward()
    plain = f.weight.grad.clone()
    f.zero_grad()
    grl = GradientReversal(0.25)
    d(grl(f(x))).sum().backward()
    torch.testing.assert_close(f.weight.grad, -0.25 * plain, rtol=1e-6, atol=0)


def test_gradient_reversal_coefficient_is_settable_and_zero_blocks():
    grl = GradientReversal()
    assert grl.coeff == 1.0
    grl.coeff = 0.0
    x = torch.ones(3, requires_grad=True)
    grl(x).sum().backward()
    assert torch.equal(x.grad, torch.zeros(3))
    with pytest.raises(ValueError, match="coeff must be >= 0"):
        grl.coeff = -1.0
    assert "coeff=0" in repr(grl)


@pytest.mark.parametrize("seed", range(3))
def test_dann_coefficient_matches_closed_form(seed):
    rng = np.random.default_rng(seed)
    gamma = float(rng.uniform(0.5, 20))
    for p in rng.uniform(0, 1, size=10):
        want = 2.0 / (1.0 + math.exp(-gamma * p)) - 1.0
        assert dann_coefficient(float(p), gamma) == pytest.approx(want, rel=1e-15)
    grid = [dann_coefficient(p) for p in np.linspace(0, 1, 11)]
    assert grid[0] == 0.0 and all(b > a for a, b in zip(grid, grid[1:], strict=False))
    assert 0.9999 < grid[-1] < 1.0


def test_domain_discriminator_returns_one_logit_per_row():
    torch.manual_seed(0)
    disc = DomainDiscriminator(6, hidden=5)
    out = disc(torch.randn(11, 6))
    assert out.shape == (11,)
    assert DomainDiscriminator(2).to(torch.float64)(torch.randn(3, 2,
                                                                dtype=torch.float64)).dtype \
        == torch.float64


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: grad_reverse([1.0, 2.0]), TypeError, "x must be a torch.Tensor"),
        (lambda: grad_reverse(torch.ones(2), -0.1), ValueError, "coeff must be >= 0"),
        (lambda: grad_reverse(torch.ones(2), float("nan")), ValueError, "coeff must be finite"),
        (lambda: grad_reverse(torch.ones(2), "1"), TypeError, "coeff must be a real number"),
        (lambda: GradientReversal(-2.0), ValueError, "coeff must be >= 0"),
        (lambda: dann_coefficient(1.5), ValueError, "progress must be <= 1"),
        (lambda: dann_coefficient(-0.1), ValueError, "progress must be >= 0"),
        (lambda: dann_coefficient(0.5, gamma=0.0), ValueError, "gamma must be > 0"),
        (lambda: dann_coefficient(None), TypeError, "progress must be a real number"),
        (lambda: DomainDiscriminator(0), ValueError, "in_features must be >= 1"),
        (lambda: DomainDiscriminator(3, hidden=0), ValueError, "hidden must be >= 1"),
        (lambda: DomainDiscriminator(2.5), TypeError, "in_features must be an int"),
        (lambda: DomainDiscriminator(3)(torch.randn(4, 2)), ValueError,
         r"f must have shape \(n, 3\)"),
        (lambda: DomainDiscriminator(3)(torch.randn(4)), ValueError, "f must have shape"),
    ],
)
def test_bad_inputs(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.skipif(not HAS_CUDA, reason="CUDA parity needs a GPU (none here)")
def test_grad_reverse_cuda_parity():
    x = torch.randn(5, 3, device="cuda", requires_grad=True)
    up = torch.randn(5, 3, device="cuda")
    grad_reverse(x, 0.7).backward(up)
    assert x.grad.device.type == "cuda"
    assert torch.equal(x.grad, up * -0.7)
