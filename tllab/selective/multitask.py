r"""Multi-task learning: one shared trunk, one head per task, trained on all tasks at once.

A task with few labels borrows the representation that related tasks with many labels
shape (Caruana, 1997): the trunk is fitted to every task's loss, each head only to its own.
:func:`fit_multitask` with a single task is the single-task baseline with the same network
and training, so the two are directly comparable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_int, check_labels, check_real, check_samples, check_vector
from ..device import as_tensor
from ._common import (
    check_training,
    decayed_weights,
    full_batch_adam,
    l2_of_weights,
    seeded_module,
)

__all__ = ["MultiTaskNet", "MultiTaskFit", "fit_multitask"]


class MultiTaskNet(nn.Module):
    r"""A shared ReLU trunk and one linear classification head per task.

    ``head_t(relu(W x + b))``: the trunk ``relu(W x + b)`` is common to all tasks.

    Parameters
    ----------
    n_features : int >= 1
    n_classes : sequence of int >= 2
        Number of classes of each task (one head each).
    hidden : int >= 1, default=16
        Width of the shared trunk.

    Examples
    --------
    >>> import torch, tllab
    >>> net = tllab.selective.MultiTaskNet(20, [2, 4])
    >>> [out.shape[1] for out in net(torch.zeros(3, 20))]
    [2, 4]
    """

    def __init__(self, n_features: int, n_classes: Sequence[int], hidden: int = 16) -> None:
        super().__init__()
        n_features = check_int(n_features, "n_features", min_value=1)
        hidden = check_int(hidden, "hidden", min_value=1)
        if isinstance(n_classes, (str, bytes)) or not isinstance(n_classes, Sequence):
            raise TypeError(f"n_classes must be a sequence of ints; got {n_classes!r}")
        if not n_classes:
            raise ValueError("n_classes must name at least one task")
        sizes = [check_int(c, "n_classes", min_value=2) for c in n_classes]
        self.trunk = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU())
        self.heads = nn.ModuleList(nn.Linear(hidden, c) for c in sizes)

    def forward(self, x: torch.Tensor, task: int | None = None):
        """Logits of every task (a list), or of task ``task`` only."""
        h = self.trunk(x)
        if task is None:
            return [head(h) for head in self.heads]
        return self.heads[task](h)

    @torch.no_grad()
    def predict(self, x, task: int = 0) -> torch.Tensor:
        """Predicted labels of task ``task`` (``torch.long``)."""
        task = check_int(task, "task", min_value=0)
        if task >= len(self.heads):
            raise ValueError(f"task must be < {len(self.heads)}; got {task}")
        p = next(self.parameters())
        return self(as_tensor(x).to(device=p.device, dtype=p.dtype), task).argmax(-1)


class MultiTaskFit(NamedTuple):
    """What :func:`fit_multitask` returns."""

    model: MultiTaskNet
    """The trained network (eval mode); ``model.predict(x, task)``."""
    losses: list
    """The training objective at every step."""


def fit_multitask(
    tasks: Sequence,
    *,
    hidden: int = 16,
    task_weights=None,
    weight_decay: float = 1e-3,
    n_steps: int = 150,
    lr: float = 0.04,
    seed: int = 0,
) -> MultiTaskFit:
    r"""Train a :class:`MultiTaskNet` on several labelled tasks at once.

    Minimises ``Σ_t c_t · mean_i CE(head_t(trunk(x_{t,i})), y_{t,i}) + μ Σ ||W||²`` over all
    parameters (full-batch Adam), where ``c_t`` are ``task_weights`` (default 1) and the
    decay ``μ`` acts on the weight matrices of the trunk and the heads.  Each task has its
    own inputs; the tasks may have different sizes and numbers of classes.

    Parameters
    ----------
    tasks : sequence of (x, y)
        One pair per task: inputs of shape ``(n_t, d)`` (same ``d`` for all) and integer
        labels of shape ``(n_t,)``; the head of task ``t`` has ``max(y_t) + 1`` classes
        (at least 2).  All on one device.
    hidden : int, default=16
    task_weights : sequence of float >= 0, optional
    weight_decay : float >= 0, default=1e-3
    n_steps : int, default=150
    lr : float, default=0.04
    seed : int, default=0

    Returns
    -------
    MultiTaskFit

    Examples
    --------
    >>> import torch, tllab
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(100, 3, generator=g)
    >>> fit = tllab.selective.fit_multitask([(x, (x[:, 0] > 0).long()),
    ...                                      (x, (x[:, 1] > 0).long())], n_steps=100)
    >>> float((fit.model.predict(x, task=1) == (x[:, 1] > 0)).double().mean()) > 0.9
    True
    """
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, Sequence) or not tasks:
        raise TypeError("tasks must be a non-empty sequence of (x, y) pairs")
    data = []
    for t, pair in enumerate(tasks):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"tasks[{t}] must be an (x, y) pair; got {type(pair).__name__}")
        x = check_samples(pair[0], f"tasks[{t}] x")
        data.append((x, check_labels(pair[1], f"tasks[{t}] y", x.shape[0],
                                   x_name=f"tasks[{t}] x", device=x.device)))
    d, device, dtype = data[0][0].shape[1], data[0][0].device, data[0][0].dtype
    for t, (x, _) in enumerate(data):
        if x.shape[1] != d:
            raise ValueError(f"every task must have {d} features; tasks[{t}] has {x.shape[1]}")
        if x.device != device:
            raise ValueError(f"every task must be on {device}; tasks[{t}] is on {x.device}")
    if task_weights is None:
        cw = [1.0] * len(data)
    else:
        cw = check_vector(task_weights, "task_weights", len(data)).tolist()
        cw = [check_real(c, "task_weights", low=0.0) for c in cw]
    hidden = check_int(hidden, "hidden", min_value=1)
    n_steps, lr, weight_decay, seed = check_training(n_steps, lr, weight_decay, seed)
    sizes = [max(int(y.max()) + 1, 2) for _, y in data]
    model = seeded_module(lambda: MultiTaskNet(d, sizes, hidden), seed, device, dtype)
    weights = decayed_weights(model)
    data = [(x.to(dtype).detach(), y) for x, y in data]

    def objective(_step):
        loss = sum(c * F.cross_entropy(model(x, t), y)
                   for t, (c, (x, y)) in enumerate(zip(cw, data, strict=True)))
        return loss + weight_decay * l2_of_weights(weights)

    losses = full_batch_adam(model.parameters(), objective, n_steps, lr)
    model.eval()
    return MultiTaskFit(model, losses)
