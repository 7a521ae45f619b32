r"""A small, deterministic supervised fit loop and the prediction helpers around it."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from typing import NamedTuple

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from .._checks import check_batch, check_choice, check_int, check_labels, check_real

__all__ = ["FitResult", "Evaluation", "fit", "evaluate", "predict", "predict_proba"]


class FitResult(NamedTuple):
    """What :func:`fit` returns."""

    model: nn.Module
    """The trained model (the same object that was passed in), in eval mode."""
    history: dict[str, list[float]]
    """Per-epoch ``"loss"`` and ``"accuracy"`` on the training batches (running means over
    the epoch, penalty excluded), plus ``"val_loss"`` and ``"val_accuracy"`` when
    validation data are given."""
    best_epoch: int | None
    """0-based epoch whose weights were kept by early stopping (None without it)."""
    epochs_run: int
    """Epochs actually run (fewer than asked when early stopping fired)."""


class Evaluation(NamedTuple):
    """Mean cross-entropy and accuracy of a classifier on a labelled sample."""

    loss: float
    accuracy: float


def _model_device_dtype(model) -> tuple[torch.device, torch.dtype]:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    p = next(iter(model.parameters()), None)
    if p is None:
        raise ValueError("model must have at least one parameter")
    return p.device, p.dtype


def _batch_size(batch_size) -> int:
    return check_int(batch_size, "batch_size", min_value=1)


def _train_mode(model: nn.Module) -> None:
    """``model.train()``, except BatchNorm layers whose affine parameters are all frozen:
    they keep using (and keep unchanged) their running statistics."""
    model.train()
    for m in model.modules():
        if isinstance(m, _BatchNorm) and m.affine and not any(
            p.requires_grad for p in m.parameters()
        ):
            m.eval()


@torch.no_grad()
def _logits(model: nn.Module, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    was_training = model.training
    model.eval()
    try:
        return torch.cat([model(x[i:i + batch_size]) for i in range(0, x.shape[0], batch_size)])
    finally:
        model.train(was_training)


def predict_proba(model: nn.Module, x, *, batch_size: int = 1024) -> torch.Tensor:
    """Class probabilities ``softmax(model(x))`` in eval mode, without gradients.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier returning logits; its training mode is restored afterwards.
    x : array-like of shape (n, ...)
        Moved to the model's device and dtype.
    batch_size : int >= 1, default=1024

    Returns
    -------
    torch.Tensor of shape (n, n_classes), on the model's device.

    Examples
    --------
    >>> import torch, tllab
    >>> _ = torch.manual_seed(0)
    >>> p = tllab.finetune.predict_proba(tllab.models.MLP(4, 8, 3), torch.rand(6, 4))
    >>> p.shape, bool(torch.allclose(p.sum(1), torch.ones(6)))
    (torch.Size([6, 3]), True)
    """
    device, dtype = _model_device_dtype(model)
    x = check_batch(x, "x", device=device, dtype=dtype)
    return _logits(model, x, _batch_size(batch_size)).softmax(dim=1)


def predict(model: nn.Module, x, *, batch_size: int = 1024) -> torch.Tensor:
    """Predicted class labels ``argmax model(x)`` (``torch.long``), in eval mode.

    Examples
    --------
    >>> import torch, tllab
    >>> _ = torch.manual_seed(0)
    >>> tllab.finetune.predict(tllab.models.MLP(4, 8, 3), torch.rand(6, 4)).shape
    torch.Size([6])
    """
    device, dtype = _model_device_dtype(model)
    x = check_batch(x, "x", device=device, dtype=dtype)
    return _logits(model, x, _batch_size(batch_size)).argmax(dim=1)


def evaluate(model: nn.Module, x, y, *, batch_size: int = 1024) -> Evaluation:
    """Mean cross-entropy and accuracy of ``model`` on ``(x, y)``, in eval mode.

    Examples
    --------
    >>> import torch, tllab
    >>> _ = torch.manual_seed(0)
    >>> ev = tllab.finetune.evaluate(tllab.models.MLP(4, 8, 3), torch.rand(6, 4), [0, 1, 2] * 2)
    >>> 0.0 <= ev.accuracy <= 1.0 and ev.loss > 0
    True
    """
    device, dtype = _model_device_dtype(model)
    x = check_batch(x, "x", device=device, dtype=dtype)
    y = check_labels(y, "y", x.shape[0], device=device)
    logits = _logits(model, x, _batch_size(batch_size))
    _check_label_range(y, logits.shape[1], "y")
    loss = nn.functional.cross_entropy(logits.float(), y)
    return Evaluation(float(loss), float((logits.argmax(1) == y).float().mean()))


def _check_label_range(y: torch.Tensor, n_classes: int, name: str) -> None:
    if int(y.max()) >= n_classes:
        raise ValueError(f"{name} must be class indices below the model's {n_classes} outputs; "
                         f"got label {int(y.max())}")


def _optimizer(name: str, groups, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=0.9, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)
    return torch.optim.Adam(groups, lr=lr, weight_decay=weight_decay)


def _param_groups(model: nn.Module, param_groups) -> list[dict]:
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    if param_groups is None:
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ValueError("model has no trainable parameters (all have requires_grad=False)")
        return [{"params": params}]
    if isinstance(param_groups, (dict, str, bytes)) or not isinstance(param_groups, Iterable):
        raise TypeError("param_groups must be a list of dicts with a 'params' entry")
    groups, seen = [], set()
    for i, g in enumerate(param_groups):
        if not isinstance(g, dict) or "params" not in g:
            raise TypeError(f"param_groups[{i}] must be a dict with a 'params' entry; got {g!r}")
        params = [p for p in g["params"]]
        for p in params:
            if not isinstance(p, torch.Tensor) or id(p) not in trainable:
                raise ValueError(f"param_groups[{i}] holds a tensor that is not a trainable "
                                 "parameter of model")
            if id(p) in seen:
                raise ValueError(f"param_groups[{i}] repeats a parameter of an earlier group")
            seen.add(id(p))
        if "lr" in g:
            check_real(g["lr"], f"param_groups[{i}]['lr']", low=0.0)
        groups.append({**g, "params": params})
    if not seen:
        raise ValueError("param_groups holds no parameters")
    return groups


def fit(
    model: nn.Module,
    x,
    y,
    *,
    x_val=None,
    y_val=None,
    epochs: int = 20,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    batch_size: int = 64,
    optimizer: str = "adam",
    param_groups: list[dict] | None = None,
    penalty: Callable[[nn.Module], torch.Tensor] | None = None,
    patience: int | None = None,
    seed: int = 0,
    progress: bool = False,
) -> FitResult:
    r"""Train a classifier with cross-entropy by mini-batch gradient descent.

    Each epoch visits the training set once in a random order (a CPU generator seeded by
    ``seed``, so the order is the same on every device); dropout draws come from torch's
    generators seeded by ``seed`` inside a forked RNG state, so the call is deterministic
    per seed and leaves the caller's random state untouched.  The loss minimised on a batch
    ``B`` is

    .. math::  \frac{1}{|B|}\sum_{i\in B} \mathrm{CE}(f(x_i), y_i) \;+\; \mathrm{penalty}(f),

    plus, through the optimiser, ``weight_decay``: for ``"adam"`` and ``"sgd"`` the L2 term
    ``weight_decay · θ`` added to every gradient (the gradient of
    ``½ weight_decay ‖θ‖²``), for ``"adamw"`` the decoupled decay of Loshchilov & Hutter.

    Only parameters with ``requires_grad=True`` are trained; BatchNorm layers whose affine
    parameters are all frozen run in eval mode, so a frozen block is frozen entirely (its
    running statistics do not move either).  When ``batch_size > 1``, a trailing batch of a
    single example is skipped (BatchNorm1d cannot normalise one example); the next epoch
    reshuffles.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a batch ``x[i:j]`` to logits ``(j - i, n_classes)``; trained in place, on its
        own device and dtype (the data are moved there).
    x : array-like of shape (n, ...)
    y : array-like of int, shape (n,)
        Class indices in ``[0, n_classes)``.
    x_val, y_val : optional
        A validation split, evaluated after every epoch (``"val_loss"``,
        ``"val_accuracy"`` in the history).  Required by ``patience``.
    epochs : int >= 1, default=20
    lr : float > 0, default=1e-3
        Learning rate of every group that does not set its own ``"lr"``.
    weight_decay : float >= 0, default=0.0
    batch_size : int >= 1, default=64
    optimizer : {"adam", "sgd", "adamw"}, default="adam"
        ``"sgd"`` uses momentum 0.9.
    param_groups : list of dict, optional
        Optimiser parameter groups (``{"params": [...], "lr": ...}``), e.g. from
        :func:`~tllab.finetune.strategies.layerwise_param_groups`; each must hold trainable
        parameters of ``model``, none twice.  Default: one group with every trainable
        parameter.
    penalty : callable, optional
        ``penalty(model) -> scalar tensor`` added to each batch loss, e.g. an
        :class:`~tllab.finetune.strategies.L2SP` instance.
    patience : int >= 1, optional
        Early stopping: stop after ``patience`` epochs without a lower validation loss and
        restore the weights (and buffers) of the best epoch.
    seed : int >= 0, default=0
    progress : bool, default=False
        Show a tqdm progress bar over the epochs.

    Returns
    -------
    FitResult
        ``(model, history, best_epoch, epochs_run)``; the model is left in eval mode.

    Examples
    --------
    >>> import torch, tllab
    >>> _ = torch.manual_seed(0)
    >>> x = torch.randn(200, 2); y = (x[:, 0] > 0).long()
    >>> res = tllab.finetune.fit(tllab.models.MLP(2, 16, 2), x, y, epochs=30, lr=1e-2)
    >>> res.history["accuracy"][-1] > 0.9, res.epochs_run
    (True, 30)
    """
    device, dtype = _model_device_dtype(model)
    x = check_batch(x, "x", device=device, dtype=dtype)
    y = check_labels(y, "y", x.shape[0], device=device)
    if (x_val is None) != (y_val is None):
        raise ValueError("x_val and y_val must be given together")
    if x_val is not None:
        x_val = check_batch(x_val, "x_val", device=device, dtype=dtype)
        y_val = check_labels(y_val, "y_val", x_val.shape[0], x_name="x_val", device=device)
    epochs = check_int(epochs, "epochs", min_value=1)
    lr = check_real(lr, "lr", low=0.0, low_inclusive=False)
    weight_decay = check_real(weight_decay, "weight_decay", low=0.0)
    batch_size = _batch_size(batch_size)
    optimizer = check_choice(optimizer, "optimizer", ("adam", "sgd", "adamw"))
    if penalty is not None and not callable(penalty):
        raise TypeError(f"penalty must be a callable penalty(model) -> tensor; got {penalty!r}")
    if patience is not None:
        patience = check_int(patience, "patience", min_value=1)
        if x_val is None:
            raise ValueError("patience (early stopping) needs a validation split x_val, y_val")
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool; got {progress!r}")
    gen = torch.Generator().manual_seed(check_int(seed, "seed", min_value=0))
    opt = _optimizer(optimizer, _param_groups(model, param_groups), lr, weight_decay)

    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    if x_val is not None:
        history |= {"val_loss": [], "val_accuracy": []}
    best = (math.inf, None, None)  # (val loss, epoch, state)
    n = x.shape[0]
    epoch_iter = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epoch_iter = tqdm(epoch_iter, desc="fit", leave=False)
    fork = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    run = 0
    with torch.random.fork_rng(devices=fork):
        torch.manual_seed(seed)
        for epoch in epoch_iter:
            _train_mode(model)
            order = torch.randperm(n, generator=gen).to(device)
            tot_loss, tot_correct, seen = 0.0, 0.0, 0
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                if idx.numel() == 1 and batch_size > 1:
                    continue
                logits = model(x[idx])
                if epoch == 0 and start == 0:
                    _check_label_range(y, logits.shape[1], "y")
                loss = nn.functional.cross_entropy(logits, y[idx])
                total = loss if penalty is None else loss + penalty(model)
                opt.zero_grad(set_to_none=True)
                total.backward()
                opt.step()
                tot_loss += float(loss.detach()) * idx.numel()
                tot_correct += float((logits.detach().argmax(1) == y[idx]).sum())
                seen += idx.numel()
            history["loss"].append(tot_loss / seen)
            history["accuracy"].append(tot_correct / seen)
            run = epoch + 1
            if x_val is not None:
                ev = evaluate(model, x_val, y_val)
                history["val_loss"].append(ev.loss)
                history["val_accuracy"].append(ev.accuracy)
                if patience is not None:
                    if ev.loss < best[0]:
                        best = (ev.loss, epoch, copy.deepcopy(model.state_dict()))
                    elif epoch - best[1] >= patience:
                        break
    if patience is not None and best[2] is not None:
        model.load_state_dict(best[2])
    model.eval()
    return FitResult(model, history, best[1] if patience is not None else None, run)
