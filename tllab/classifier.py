"""Domain classifiers: tell source from target, and read density ratios off them.

A probabilistic classifier trained to separate sample ``x`` (label 1) from sample ``y``
(label 0) with *class-balanced* weights estimates ``P(1 | z) = p_x(z) / (p_x(z) + p_y(z))``,
so its logit estimates the log density ratio ``log p_x(z) / p_y(z)`` whatever the sample
sizes.  :func:`~tllab.crossfit_log_ratio` returns that logit for every point, each point scored
by a model that did not see it (K-fold cross-fitting), which is what the JS estimate,
the proxy A-distance and the classifier importance weights are built on.
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import check_choice, check_int, check_real, check_sample_pair
from ._scale import max_scale

__all__ = ["MODELS", "fit_domain_classifier", "crossfit_log_ratio"]

MODELS = ("logistic", "mlp")


def _make_model(model: str, d: int, hidden: int, dtype, device) -> nn.Module:
    if model == "logistic":
        net = nn.Linear(d, 1)
    else:
        net = nn.Sequential(nn.Linear(d, hidden), nn.Tanh(), nn.Linear(hidden, hidden),
                            nn.Tanh(), nn.Linear(hidden, 1))
    return net.to(device=device, dtype=dtype)


def fit_domain_classifier(
    x,
    y,
    *,
    model: str = "logistic",
    hidden: int = 64,
    weight_decay: float = 1e-3,
    max_iter: int = 200,
    seed: int = 0,
):
    """Fit a class-balanced classifier of ``x`` (label 1) against ``y`` (label 0).

    Features are standardised on the pooled training data (scale-free: multiplying the
    data by any positive constant gives the same classifier); the loss is the
    class-balanced logistic loss plus ``weight_decay * ||w||^2`` and is minimised with
    full-batch L-BFGS (deterministic for a given ``seed``).

    Parameters
    ----------
    x, y : array-like of shape (n, d) and (m, d)
    model : {"logistic", "mlp"}, default="logistic"
        A linear logit, or a two-hidden-layer tanh network for non-linear boundaries.
    hidden : int, default=64
        Width of the MLP's hidden layers.
    weight_decay : float, default=1e-3
    max_iter : int, default=200
        L-BFGS iterations.
    seed : int, default=0

    Returns
    -------
    callable
        ``log_ratio(z)`` returning the estimated ``log p_x(z) / p_y(z)`` as a tensor of
        shape ``(len(z),)``.

    Examples
    --------
    >>> import torch, tllab
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(200, 1, generator=g) + 2; y = torch.randn(200, 1, generator=g)
    >>> f = tllab.fit_domain_classifier(x, y)
    >>> bool(f(torch.tensor([[3.0]])) > 0)
    True
    """
    x, y = check_sample_pair(x, y, min_samples=1)
    model = check_choice(model, "model", MODELS)
    hidden = check_int(hidden, "hidden", min_value=1)
    weight_decay = check_real(weight_decay, "weight_decay", low=0.0)
    max_iter = check_int(max_iter, "max_iter", min_value=1)
    seed = check_int(seed, "seed", min_value=0)

    z = torch.cat([x, y]).detach()
    # Each feature is first divided by a power of two near its largest magnitude (exact),
    # so that the squares inside std cannot overflow (data ~1e200) or underflow (~1e-200).
    c = max_scale(z, dim=0)
    mu = (z / c).mean(0)
    sd = (z / c).std(0, unbiased=False).clamp_min(1e-12)
    zs = (z / c - mu) / sd
    labels = torch.cat([z.new_ones(x.shape[0]), z.new_zeros(y.shape[0])])
    weights = torch.cat([z.new_full((x.shape[0],), 0.5 / x.shape[0]),
                         z.new_full((y.shape[0],), 0.5 / y.shape[0])])

    devices = [z.device] if z.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        net = _make_model(model, z.shape[1], hidden, z.dtype, z.device)
    params = [p for p in net.parameters()]
    penalised = [p for name, p in net.named_parameters() if name.endswith("weight")]
    opt = torch.optim.LBFGS(params, lr=1.0, max_iter=max_iter, history_size=20,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-9,
                            tolerance_change=1e-12)
    bce = nn.BCEWithLogitsLoss(reduction="none")

    def closure():
        opt.zero_grad()
        loss = (weights * bce(net(zs).squeeze(1), labels)).sum()
        loss = loss + weight_decay * sum((p * p).sum() for p in penalised)
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    net.eval()

    def log_ratio(points) -> torch.Tensor:
        pts = torch.as_tensor(points, dtype=z.dtype, device=z.device)
        with torch.no_grad():
            return net((pts / c - mu) / sd).squeeze(1)

    return log_ratio


def _fold_ids(n: int, n_folds: int, gen: torch.Generator, device) -> torch.Tensor:
    """Fold index in ``0..n_folds-1`` of each of ``n`` points: a seeded shuffle, balanced sizes."""
    return (torch.randperm(n, generator=gen) % n_folds).to(device)


def crossfit_log_ratio(x, y, *, n_folds: int = 2, seed: int = 0, **classifier_kwargs):
    """Out-of-fold estimates of ``log p_x / p_y`` at every point of ``x`` and ``y``.

    Both samples are split into ``n_folds`` folds (seeded shuffles); the classifier
    trained on all other folds scores each fold, so no point is scored by a model that
    saw it.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        Log-ratio at the points of ``x`` (shape ``(n,)``) and of ``y`` (shape ``(m,)``).

    Examples
    --------
    >>> import torch, tllab
    >>> x = torch.randn(100, 2) + 3; y = torch.randn(100, 2)
    >>> lx, ly = tllab.crossfit_log_ratio(x, y)
    >>> bool(lx.mean() > ly.mean())
    True
    """
    n_folds = check_int(n_folds, "n_folds", min_value=2)
    x, y = check_sample_pair(x, y, min_samples=n_folds)
    seed = check_int(seed, "seed", min_value=0)
    gen = torch.Generator().manual_seed(seed)
    fx = _fold_ids(x.shape[0], n_folds, gen, x.device)
    fy = _fold_ids(y.shape[0], n_folds, gen, x.device)
    lx = x.new_empty(x.shape[0])
    ly = y.new_empty(y.shape[0])
    for k in range(n_folds):
        f = fit_domain_classifier(x[fx != k], y[fy != k], seed=seed + k, **classifier_kwargs)
        lx[fx == k] = f(x[fx == k])
        ly[fy == k] = f(y[fy == k])
    return lx, ly
