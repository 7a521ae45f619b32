r"""Train a network on a joint loss: source classification plus a domain-alignment term.

:func:`fit_adapted` trains ``head(features(x))`` on

``L = CE(source) [+ CE(labelled target)] + weight × A(features of a source batch,
features of a target batch)``

with ``A`` one of Deep CORAL, MMD (DDC/DAN) or the adversarial domain loss of DANN
(discriminator behind a gradient-reversal layer), or none (source-only training).  A few
labelled target samples, when given, join the classification term (semi-supervised domain
adaptation).  :func:`predict` and :func:`extract_features` evaluate the trained modules in
batches.  Any ``nn.Module`` works (MLPs on vectors, CNNs on images) on any device: the data
stay where they are and each batch moves to the device of the modules' parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn
from tqdm.auto import trange

from ._checks import check_batch, check_int, check_labels, check_real
from .adversarial import DomainDiscriminator, dann_coefficient, grad_reverse
from .align.losses import coral_loss, mmd_loss

__all__ = ["ALIGNMENTS", "AdaptResult", "fit_adapted", "predict", "extract_features"]

ALIGNMENTS = ("coral", "mmd", "dann")


class AdaptResult(NamedTuple):
    """Outcome of :func:`fit_adapted`: the trained modules and per-epoch training curves."""

    features: nn.Module
    """The feature extractor, trained in place (returned in eval mode)."""
    head: nn.Module
    """The classifier head, trained in place (returned in eval mode)."""
    discriminator: nn.Module | None
    """The domain discriminator for ``alignment="dann"``, else None."""
    classification_loss: list[float]
    """Mean cross-entropy per epoch (source, plus labelled target when given)."""
    alignment_loss: list[float] | None
    """Mean alignment term per epoch, before the ``weight`` (DANN: the discriminator's
    binary cross-entropy); None without alignment."""
    domain_accuracy: list[float] | None
    """The DANN discriminator's accuracy on the training batches, per epoch (else None)."""


def _check_module(m, name: str) -> nn.Module:
    if not isinstance(m, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module; got {type(m).__name__}")
    return m


def _placement(*modules: nn.Module) -> tuple[torch.device, torch.dtype]:
    for m in modules:
        for p in m.parameters():
            return p.device, p.dtype
    raise ValueError("features and head have no parameters to train")


def _alignment_loss(alignment) -> Callable | None:
    if alignment is None or alignment == "dann":
        return None
    if isinstance(alignment, str):
        if alignment not in ALIGNMENTS:
            raise ValueError(
                f"alignment must be None, one of {ALIGNMENTS} or a callable; got {alignment!r}")
        return coral_loss if alignment == "coral" else mmd_loss
    if callable(alignment):
        return alignment
    raise TypeError(f"alignment must be None, one of {ALIGNMENTS} or a callable; "
                    f"got {type(alignment).__name__}")


def _restore_mode(modules, modes):
    for m, mode in zip(modules, modes, strict=True):
        m.train(mode)


@torch.no_grad()
def _probe_width(features: nn.Module, x: torch.Tensor, device, dtype) -> int:
    mode = features.training
    features.eval()
    try:
        return int(features(x[:2].to(device=device, dtype=dtype)).flatten(1).shape[1])
    finally:
        features.train(mode)


def _index_stream(n: int, size: int, gen: torch.Generator):
    """Endless batches of ``size`` indices: consecutive slices of fresh random permutations."""
    buf = torch.empty(0, dtype=torch.long)
    while True:
        while buf.numel() < size:
            buf = torch.cat([buf, torch.randperm(n, generator=gen)])
        yield buf[:size]
        buf = buf[size:]


def fit_adapted(
    features: nn.Module,
    head: nn.Module,
    xs,
    ys,
    xt,
    *,
    alignment: str | Callable | None = None,
    weight: float = 1.0,
    xt_labelled=None,
    yt_labelled=None,
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    progress: bool = False,
    discriminator: nn.Module | None = None,
    gamma: float = 10.0,
    discriminator_lr: float | None = None,
) -> AdaptResult:
    r"""Train ``head(features(x))`` on source labels plus a feature-alignment term.

    Each step draws a source batch, a target batch of the same size (fewer if the target
    sample is smaller) and, when given, the labelled target samples (all of them, or a
    random ``batch_size`` of them), passes them through ``features`` together (so batch
    normalisation sees both domains) and minimises

    ``CE(head(f_s), y_s) [+ CE(head(f_l), y_l)] + weight × A(f_s, f_t)``

    where ``f`` are the features flattened to ``(batch, -1)`` and ``A`` is

    * ``None``: nothing (source-only; the target batch is not even drawn);
    * ``"coral"``: :func:`tllab.align.losses.coral_loss` (Deep CORAL);
    * ``"mmd"``: :func:`tllab.align.losses.mmd_loss` (Gaussian kernel, median bandwidth per
      batch);
    * a callable ``A(fs, ft) -> 0-d tensor``, e.g. ``MMDLoss(bandwidth=[1, 2, 4])`` (DAN);
    * ``"dann"``: the binary cross-entropy of a domain discriminator (source = 1) fed
      through :func:`tllab.adversarial.grad_reverse` with coefficient
      :func:`tllab.adversarial.dann_coefficient` of the training progress: the discriminator
      minimises it while the features, receiving the reversed gradient, maximise it
      (Ganin et al., 2016).

    Adam optimises all parameters with ``lr`` and ``weight_decay`` (L2).  For DANN the
    adversarial game is run the way GANs are trained, because with plain settings the
    features and the discriminator chase each other in circles instead of settling: the
    discriminator learns ``discriminator_lr / lr`` (default 10) times faster (a two-time-scale
    update, Heusel et al., 2017) and Adam's momentum is ``β₁ = 0.5`` (Radford et al., 2016)
    instead of 0.9.  An epoch is
    ``⌊n_s / batch_size⌋`` steps over a fresh shuffle of the source (the incomplete last
    batch is dropped).  Training is deterministic for a given ``seed`` (batch order,
    dropout, the discriminator's initialisation) as long as the modules' own initialisation
    is seeded and the device's kernels are deterministic; the global random state is left
    as it was.

    Parameters
    ----------
    features : nn.Module
        Feature extractor, maps a batch of inputs to ``(batch, ...)`` features.
    head : nn.Module
        Classifier on those features, returns ``(batch, n_classes)`` logits.
    xs : array-like of shape (n_s, ...)
        Source inputs; stay on their device, batches move to the modules' device and dtype.
    ys : array-like of shape (n_s,)
        Source class indices in ``0..n_classes-1``.
    xt : array-like of shape (n_t, ...)
        Unlabelled target inputs, same trailing shape as ``xs``.
    alignment : None, "coral", "mmd", "dann" or callable, default=None
    weight : float, default=1.0
        Non-negative weight ``λ`` of the alignment term.
    xt_labelled, yt_labelled : array-like, optional
        A few labelled target samples (semi-supervised DA); both or neither.
    epochs : int, default=30
    batch_size : int, default=64
    lr : float, default=1e-3
    weight_decay : float, default=0.0
    seed : int, default=0
    progress : bool, default=False
        Show a tqdm progress bar over the epochs.
    discriminator : nn.Module, optional
        For ``"dann"``: maps ``(batch, d)`` features to ``(batch,)`` logits; by default a
        :class:`tllab.adversarial.DomainDiscriminator` with 64 hidden units.
    gamma : float, default=10.0
        Steepness of the DANN schedule.
    discriminator_lr : float, optional
        Learning rate of the DANN discriminator; ``10 * lr`` by default.

    Returns
    -------
    AdaptResult

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from tllab.adapt import fit_adapted, predict
    >>> g = torch.Generator().manual_seed(0)
    >>> xs = torch.randn(200, 2, generator=g); ys = (xs[:, 0] > 0).long()
    >>> xt = torch.randn(200, 2, generator=g) + 0.5
    >>> _ = torch.manual_seed(0)
    >>> f, h = nn.Sequential(nn.Linear(2, 16), nn.ReLU()), nn.Linear(16, 2)
    >>> res = fit_adapted(f, h, xs, ys, xt, alignment="coral", epochs=20, lr=1e-2)
    >>> len(res.classification_loss), res.domain_accuracy is None
    (20, True)
    >>> float((predict(f, h, xs) == ys).float().mean()) > 0.9
    True
    """
    features = _check_module(features, "features")
    head = _check_module(head, "head")
    loss_fn = _alignment_loss(alignment)
    dann = isinstance(alignment, str) and alignment == "dann"
    aligning = alignment is not None
    weight = check_real(weight, "weight", low=0.0)
    epochs = check_int(epochs, "epochs", min_value=1)
    batch_size = check_int(batch_size, "batch_size", min_value=2 if aligning else 1)
    lr = check_real(lr, "lr", low=0.0, low_inclusive=False)
    weight_decay = check_real(weight_decay, "weight_decay", low=0.0)
    seed = check_int(seed, "seed", min_value=0)
    gamma = check_real(gamma, "gamma", low=0.0, low_inclusive=False)
    if discriminator is not None and not dann:
        raise ValueError("discriminator is only used with alignment='dann'")
    discriminator_lr = 10.0 * lr if discriminator_lr is None else check_real(
        discriminator_lr, "discriminator_lr", low=0.0, low_inclusive=False)

    min_n = 2 if aligning else 1
    xs = check_batch(xs, "xs", min_samples=min_n)
    ys = check_labels(ys, "ys", xs.shape[0], x_name="xs")
    xt = check_batch(xt, "xt", min_samples=min_n)
    if xt.shape[1:] != xs.shape[1:]:
        raise ValueError(f"xs and xt must have the same shape per sample; got "
                         f"{tuple(xs.shape[1:])} and {tuple(xt.shape[1:])}")
    if (xt_labelled is None) != (yt_labelled is None):
        raise ValueError("pass both xt_labelled and yt_labelled, or neither")
    if xt_labelled is not None:
        xl = check_batch(xt_labelled, "xt_labelled")
        if xl.shape[1:] != xs.shape[1:]:
            raise ValueError(f"xt_labelled must have the per-sample shape of xs, "
                             f"{tuple(xs.shape[1:])}; got {tuple(xl.shape[1:])}")
        yl = check_labels(yt_labelled, "yt_labelled", xl.shape[0], x_name="xt_labelled")
    else:
        xl = yl = None

    device, dtype = _placement(features, head)
    modules = [features, head]
    cuda = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        if dann:
            if discriminator is None:
                width = _probe_width(features, xs, device, dtype)
                discriminator = DomainDiscriminator(width).to(device=device, dtype=dtype)
            modules.append(_check_module(discriminator, "discriminator"))
        groups = [{"params": [p for m in modules[:2] for p in m.parameters()]}]
        if dann:
            groups.append({"params": list(discriminator.parameters()),
                           "lr": discriminator_lr})
        opt = torch.optim.Adam(groups, lr=lr, weight_decay=weight_decay,
                               betas=(0.5, 0.999) if dann else (0.9, 0.999))
        gen = torch.Generator().manual_seed(seed)

        n_s, n_t = xs.shape[0], xt.shape[0]
        bs = min(batch_size, n_s)
        steps = n_s // bs
        target_stream = _index_stream(n_t, min(bs, n_t), gen) if aligning else None
        labelled_stream = (_index_stream(xl.shape[0], min(batch_size, xl.shape[0]), gen)
                           if xl is not None else None)
        total_steps = epochs * steps
        ce = nn.CrossEntropyLoss()
        bce = nn.BCEWithLogitsLoss()
        history_cls, history_align, history_acc = [], [], []

        def move(x, idx):
            return x[idx.to(x.device)].to(device=device, dtype=dtype)

        for m in modules:
            m.train()
        bar = trange(epochs, disable=not progress, desc=f"fit_adapted ({alignment or 'source'})",
                     leave=False)
        for epoch in bar:
            perm = torch.randperm(n_s, generator=gen)
            sums = torch.zeros(3, dtype=torch.float64, device=device)  # no host sync per step
            for k in range(steps):
                idx = perm[k * bs:(k + 1) * bs]
                parts = [move(xs, idx)]
                labels = [ys[idx.to(ys.device)].to(device)]
                if xl is not None:
                    lidx = next(labelled_stream)
                    parts.append(move(xl, lidx))
                    labels.append(yl[lidx.to(yl.device)].to(device))
                n_lab = sum(p.shape[0] for p in parts)
                if aligning:
                    parts.append(move(xt, next(target_stream)))
                f = features(torch.cat(parts))
                logits = head(f[:n_lab])
                if epoch == 0 and k == 0:
                    top = max(int(ys.max()), int(yl.max()) if yl is not None else 0)
                    if logits.ndim != 2 or top >= logits.shape[1]:
                        raise ValueError(
                            f"head must return (batch, n_classes) logits with n_classes above "
                            f"the largest label {top}; got shape {tuple(logits.shape)}")
                # one CE per labelled group, so a handful of target labels is not drowned out
                loss_cls = ce(logits[:bs], labels[0])
                if xl is not None:
                    loss_cls = loss_cls + ce(logits[bs:], labels[1])
                loss = loss_cls
                if aligning:
                    fs, ft = f[:bs].flatten(1), f[n_lab:].flatten(1)
                    if dann:
                        coeff = dann_coefficient((epoch * steps + k) / total_steps, gamma)
                        d_logits = discriminator(grad_reverse(torch.cat([fs, ft]), coeff))
                        d_labels = torch.cat([fs.new_ones(fs.shape[0]), ft.new_zeros(ft.shape[0])])
                        a = bce(d_logits, d_labels)
                        acc = ((d_logits > 0) == (d_labels > 0.5)).float().mean()
                        sums[2] += acc.detach().double()
                    else:
                        a = loss_fn(fs, ft)
                    loss = loss + weight * a
                    sums[1] += a.detach().double()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sums[0] += loss_cls.detach().double()
            means = (sums / steps).tolist()
            history_cls.append(means[0])
            if aligning:
                history_align.append(means[1])
            if dann:
                history_acc.append(means[2])
            bar.set_postfix(ce=f"{means[0]:.3f}")
        bar.close()
    for m in modules:
        m.eval()
    return AdaptResult(features, head, discriminator if dann else None, history_cls,
                       history_align if aligning else None, history_acc if dann else None)


@torch.no_grad()
def _batched(modules: list[nn.Module], x, batch_size: int) -> torch.Tensor:
    batch_size = check_int(batch_size, "batch_size", min_value=1)
    x = check_batch(x, "x")
    device, dtype = _placement(*modules)
    modes = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        outs = []
        for i in range(0, x.shape[0], batch_size):
            out = x[i:i + batch_size].to(device=device, dtype=dtype)
            for m in modules:
                out = m(out)
            outs.append(out.to(x.device))
        return torch.cat(outs)
    finally:
        _restore_mode(modules, modes)


def extract_features(features: nn.Module, x, *, batch_size: int = 1024) -> torch.Tensor:
    """``features(x)`` flattened to ``(n, -1)``, in eval mode and batches, without gradient.

    Returns a tensor on ``x``'s device (``x`` itself stays where it is).

    Examples
    --------
    >>> import torch
    >>> from tllab.adapt import extract_features
    >>> extract_features(torch.nn.Linear(3, 2), torch.randn(10, 3)).shape
    torch.Size([10, 2])
    """
    return _batched([_check_module(features, "features")], x, batch_size).flatten(1)


def predict(features: nn.Module, head: nn.Module, x, *, batch_size: int = 1024,
            logits: bool = False) -> torch.Tensor:
    """Predicted classes ``argmax head(features(x))`` (or the logits), in eval mode and batches.

    Parameters
    ----------
    features, head : nn.Module
    x : array-like of shape (n, ...)
    batch_size : int, default=1024
    logits : bool, default=False
        Return the ``(n, n_classes)`` logits instead of the ``(n,)`` class indices.

    Returns
    -------
    torch.Tensor
        On ``x``'s device.

    Examples
    --------
    >>> import torch
    >>> from tllab.adapt import predict
    >>> head = torch.nn.Linear(2, 3)
    >>> predict(torch.nn.Identity(), head, torch.randn(5, 2)).shape
    torch.Size([5])
    """
    out = _batched([_check_module(features, "features"), _check_module(head, "head")], x,
                   batch_size)
    return out if logits else out.argmax(1)
