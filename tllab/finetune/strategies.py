r"""Transfer strategies for a pretrained network: what to train, how fast, towards what.

The models are organised as ``model.blocks`` (an ``torch.nn.Sequential`` backbone) and
``model.head`` (the classifier), as :class:`~tllab.models.cnn.SmallCNN` and
:class:`~tllab.models.cnn.MLP` are.  The building blocks — :func:`freeze_blocks`,
:func:`layerwise_param_groups`, :class:`L2SP`, :func:`adabn`, :func:`reset_parameters` —
compose with :func:`tllab.finetune.fit`; :func:`fine_tune` runs one named strategy in one call.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from .._checks import check_batch, check_choice, check_int, check_real
from ._fit import FitResult, _model_device_dtype, fit

__all__ = [
    "STRATEGIES",
    "freeze_blocks",
    "layerwise_param_groups",
    "l2sp_penalty",
    "L2SP",
    "adabn",
    "reset_parameters",
    "fine_tune",
]

#: The strategies of :func:`fine_tune`, from the least to the most trained.
STRATEGIES: tuple[str, ...] = ("linear_probe", "partial", "discriminative", "l2sp", "full",
                               "scratch")


def _blocks(model) -> nn.Sequential:
    _model_device_dtype(model)
    blocks, head = getattr(model, "blocks", None), getattr(model, "head", None)
    if not isinstance(blocks, nn.Sequential) or not isinstance(head, nn.Module):
        raise TypeError("model must have a `blocks` nn.Sequential and a `head` module (as "
                        "tllab.models.SmallCNN and MLP do)")
    return blocks


def freeze_blocks(model: nn.Module, k: int) -> nn.Module:
    r"""Freeze the first ``k`` blocks of ``model.blocks``; make every other parameter trainable.

    Frozen parameters get ``requires_grad=False``, so :func:`tllab.finetune.fit` neither
    updates them nor — for BatchNorm layers whose affine parameters are frozen — their
    running statistics.  ``k=0`` trains everything (full fine-tuning), ``k=len(model.blocks)``
    trains only the head (a *linear probe*: a linear classifier on fixed features).

    Parameters
    ----------
    model : torch.nn.Module
        A model with ``blocks`` and ``head``; modified in place.
    k : int in [0, len(model.blocks)]

    Returns
    -------
    torch.nn.Module
        ``model`` itself.

    Examples
    --------
    >>> import tllab
    >>> model = tllab.finetune.freeze_blocks(tllab.models.SmallCNN(width=4), 2)
    >>> [all(p.requires_grad for p in b.parameters()) for b in model.blocks]
    [False, False, True]
    """
    blocks = _blocks(model)
    k = check_int(k, "k", min_value=0)
    if k > len(blocks):
        raise ValueError(f"k must be <= the number of blocks ({len(blocks)}); got {k}")
    for p in model.parameters():
        p.requires_grad_(True)
    for block in blocks[:k]:
        for p in block.parameters():
            p.requires_grad_(False)
    return model


def layerwise_param_groups(model: nn.Module, lr: float, decay: float = 0.5) -> list[dict]:
    r"""Discriminative (layer-wise) learning rates: the deeper from the head, the smaller.

    The head gets ``lr``; block ``i`` of ``L`` blocks gets ``lr · decay^(L − i)``, so the
    last block gets ``lr · decay`` and the first ``lr · decay^L``: the generic early
    layers move least (Howard & Ruder's ULMFiT used ``decay = 1/2.6``).  Only trainable
    parameters are included; parameters of ``model`` outside ``blocks`` and ``head`` join
    the head's group.

    Parameters
    ----------
    model : torch.nn.Module
        A model with ``blocks`` and ``head``.
    lr : float > 0
    decay : float in (0, 1], default=0.5

    Returns
    -------
    list of dict
        Optimiser groups ``{"params", "lr", "name"}`` (``"head"``, ``"block2"``, …), head
        first; groups without trainable parameters are omitted.

    Examples
    --------
    >>> import tllab
    >>> groups = tllab.finetune.layerwise_param_groups(tllab.models.SmallCNN(), 1e-2, 0.5)
    >>> [(g["name"], g["lr"]) for g in groups]
    [('head', 0.01), ('block2', 0.005), ('block1', 0.0025), ('block0', 0.00125)]
    """
    blocks = _blocks(model)
    lr = check_real(lr, "lr", low=0.0, low_inclusive=False)
    decay = check_real(decay, "decay", low=0.0, high=1.0, low_inclusive=False)
    in_blocks = {id(p) for p in blocks.parameters()}
    groups = [{"name": "head", "lr": lr,
               "params": [p for p in model.parameters()
                          if p.requires_grad and id(p) not in in_blocks]}]
    n = len(blocks)
    for i in reversed(range(n)):
        groups.append({"name": f"block{i}", "lr": lr * decay ** (n - i),
                       "params": [p for p in blocks[i].parameters() if p.requires_grad]})
    groups = [g for g in groups if g["params"]]
    if not groups:
        raise ValueError("model has no trainable parameters (all have requires_grad=False)")
    return groups


def _reference(model: nn.Module, reference, anchored) -> dict[str, torch.Tensor]:
    params = dict(model.named_parameters())
    if reference is None:
        reference = {k: v.detach().clone() for k, v in params.items()}
    elif not isinstance(reference, dict):
        raise TypeError("reference must be a dict {parameter name: tensor} (e.g. a state_dict)")
    if anchored is not None:
        if isinstance(anchored, str) or not isinstance(anchored, Iterable):
            raise TypeError(f"anchored must be a sequence of name prefixes; got {anchored!r}")
        prefixes = tuple(anchored)
        reference = {k: v for k, v in reference.items() if k.startswith(prefixes)}
    out = {}
    for name, value in reference.items():
        if name not in params:
            continue  # buffers of a state_dict (BatchNorm statistics) are not parameters
        if not isinstance(value, torch.Tensor) or value.shape != params[name].shape:
            raise ValueError(f"reference[{name!r}] must be a tensor of shape "
                             f"{tuple(params[name].shape)}")
        out[name] = value.detach().to(device=params[name].device, dtype=params[name].dtype)
    return out


def l2sp_penalty(model: nn.Module, reference: dict, *, alpha: float = 0.01,
                 beta: float = 0.01) -> torch.Tensor:
    r"""The L2-SP penalty of Li, Grandvalet & Davoine (2018): stay near the starting point.

    .. math::

        \Omega(w) = \frac{\alpha}{2}\,\lVert w_S - w_S^0\rVert^2
                    + \frac{\beta}{2}\,\lVert w_{\bar S}\rVert^2,

    where ``S`` are the parameters named in ``reference`` (the pretrained values
    ``w⁰``) and ``S̄`` the others (e.g. a new head), which get plain weight decay.
    Its gradient is ``α (w − w⁰)`` on ``S`` and ``β w`` on ``S̄``; it is 0 at the start
    point when every parameter is anchored.  Frozen parameters (``requires_grad=False``)
    are left out: they cannot move.

    Parameters
    ----------
    model : torch.nn.Module
    reference : dict
        ``{parameter name: pretrained tensor}``, e.g. ``pretrained.state_dict()`` (entries
        that are not parameters of ``model``, such as BatchNorm statistics, are ignored).
    alpha, beta : float >= 0, default=0.01

    Returns
    -------
    torch.Tensor
        A 0-d tensor on the model's device, differentiable in the model's parameters.

    Examples
    --------
    >>> import torch, tllab
    >>> model = tllab.models.MLP(4, 3, 2)
    >>> ref = {k: v.clone() for k, v in model.state_dict().items()}
    >>> float(tllab.finetune.l2sp_penalty(model, ref).detach())
    0.0
    """
    _model_device_dtype(model)
    alpha = check_real(alpha, "alpha", low=0.0)
    beta = check_real(beta, "beta", low=0.0)
    ref = _reference(model, reference, None)
    return _l2sp(model, ref, alpha, beta)


def _l2sp(model, ref, alpha, beta) -> torch.Tensor:
    anchored, free = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name in ref:
            anchored.append(((p - ref[name]) ** 2).sum())
        else:
            free.append((p**2).sum())
    zero = next(model.parameters()).new_zeros(())
    return 0.5 * alpha * sum(anchored, zero) + 0.5 * beta * sum(free, zero)


class L2SP(nn.Module):
    r"""L2-SP as a module: remembers the starting point, ``penalty(model)`` returns Ω(w).

    See :func:`l2sp_penalty` for the definition.  Construct it from the pretrained model
    before training and pass it to :func:`tllab.finetune.fit` as ``penalty=``.

    Parameters
    ----------
    model : torch.nn.Module
        The pretrained model; its current parameters become ``w⁰`` (copied).
    alpha, beta : float >= 0, default=0.01
    anchored : sequence of str, optional
        Name prefixes of the parameters that belong to ``S`` (e.g. ``("blocks",)`` when the
        head is new); default: all parameters.

    Examples
    --------
    >>> import torch, tllab
    >>> model = tllab.models.MLP(4, 3, 2)
    >>> penalty = tllab.finetune.L2SP(model, alpha=0.1)
    >>> with torch.no_grad():
    ...     _ = model.head.bias.add_(1.0)
    >>> round(float(penalty(model).detach()), 6)  # 0.1 / 2 * (1² + 1²)
    0.1
    """

    def __init__(self, model: nn.Module, alpha: float = 0.01, beta: float = 0.01,
                 anchored: Iterable[str] | None = None) -> None:
        super().__init__()
        _model_device_dtype(model)
        self.alpha = check_real(alpha, "alpha", low=0.0)
        self.beta = check_real(beta, "beta", low=0.0)
        self.reference = _reference(model, None, anchored)

    def forward(self, model: nn.Module) -> torch.Tensor:
        """Ω(w) for the current parameters of ``model``."""
        return _l2sp(model, self.reference, self.alpha, self.beta)


@torch.no_grad()
def adabn(model: nn.Module, x, *, batch_size: int | None = None) -> nn.Module:
    r"""AdaBN (Li et al. 2016): re-estimate every BatchNorm's statistics on the target data.

    The running means and variances of all BatchNorm layers are replaced by the statistics
    of their inputs on ``x``; nothing else changes — no parameter, no other buffer.  The
    layers are adapted one after the other in the order the data reach them, each from one
    pass over ``x`` in which the earlier layers already use their adapted statistics, so
    that afterwards every BatchNorm's running mean and (unbiased) variance are exactly the
    moments of its inputs when the model runs in eval mode on ``x``.  Each layer then
    normalises target features with target statistics, removing a shift of the per-channel
    mean and scale without a single label.

    With ``batch_size=None`` each pass takes all of ``x`` at once.  With batches, the
    statistics are the averages of the batch statistics (BatchNorm's ``momentum=None``
    mode), an approximation of the variance.  Dropout is off during the passes; the
    modules' train/eval modes are restored afterwards.

    Parameters
    ----------
    model : torch.nn.Module
        Modified in place.
    x : array-like of shape (n, ...)
        Unlabelled target inputs (moved to the model's device and dtype).
    batch_size : int >= 2, optional

    Returns
    -------
    torch.nn.Module
        ``model`` itself.

    Examples
    --------
    >>> import torch, tllab
    >>> _ = torch.manual_seed(0)
    >>> model = tllab.models.SmallCNN(width=4)
    >>> x = 3.0 + torch.rand(50, 1, 8, 8)
    >>> bn = model.blocks[0][1]
    >>> _ = tllab.finetune.adabn(model, x)
    >>> conv = model.blocks[0][0](x)
    >>> bool(torch.allclose(bn.running_mean, conv.mean((0, 2, 3)), atol=1e-5))
    True
    """
    device, dtype = _model_device_dtype(model)
    x = check_batch(x, "x", device=device, dtype=dtype)
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", min_value=2)
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    if not bns:
        raise ValueError("model has no BatchNorm layer: AdaBN has nothing to re-estimate")
    if not all(m.track_running_stats for m in bns):
        raise ValueError("AdaBN needs BatchNorm layers with track_running_stats=True")
    modes = {m: m.training for m in model.modules()}
    momenta = {m: m.momentum for m in bns}
    step = x.shape[0] if batch_size is None else batch_size

    def run() -> None:
        for i in range(0, x.shape[0], step):
            model(x[i:i + step])

    order: list[nn.Module] = []
    hooks = [m.register_forward_pre_hook(lambda m, _: order.append(m) if m not in order
                                         else None) for m in bns]
    try:
        model.eval()
        run()  # learn the order in which the data reach the BatchNorm layers
        for h in hooks:
            h.remove()
        order += [m for m in bns if m not in order]  # layers the data never reach
        for m in order:
            m.reset_running_stats()
            m.momentum = None
            m.train()
            run()
            m.eval()
    finally:
        for h in hooks:
            h.remove()
        for m, momentum in momenta.items():
            m.momentum = momentum
        for m, mode in modes.items():
            m.training = mode
    return model


def reset_parameters(model: nn.Module, seed: int = 0) -> nn.Module:
    """Re-initialise every layer (``reset_parameters()`` of each submodule), seeded.

    Gives a network of the same architecture with fresh weights and fresh BatchNorm
    statistics — the "from scratch" baseline.  The caller's random state is left untouched.

    Examples
    --------
    >>> import torch, tllab
    >>> a = tllab.finetune.reset_parameters(tllab.models.MLP(4, 3, 2), seed=1)
    >>> b = tllab.finetune.reset_parameters(tllab.models.MLP(4, 3, 2), seed=1)
    >>> bool(torch.equal(a.head.weight, b.head.weight))
    True
    """
    device, _ = _model_device_dtype(model)
    seed = check_int(seed, "seed", min_value=0)
    fork = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    with torch.random.fork_rng(devices=fork):
        torch.manual_seed(seed)
        for m in model.modules():
            if m is not model and hasattr(m, "reset_parameters"):
                m.reset_parameters()
    return model


def fine_tune(
    model: nn.Module,
    x,
    y,
    strategy: str = "full",
    *,
    n_frozen: int = 1,
    lr: float = 1e-3,
    lr_decay: float = 0.5,
    alpha: float = 0.01,
    beta: float = 0.01,
    copy_model: bool = True,
    **fit_kwargs,
) -> FitResult:
    r"""Transfer a pretrained model to labelled target data with one named strategy.

    ====================  =================================================================
    strategy              what is trained, and how
    ====================  =================================================================
    ``linear_probe``      the head only; the backbone is frozen (its BatchNorm statistics
                          too)
    ``partial``           the head and the blocks after the first ``n_frozen`` (frozen)
    ``discriminative``    everything, learning rate ``lr`` for the head and
                          ``lr·lr_decay^d`` for the block ``d`` steps below it
                          (:func:`layerwise_param_groups`)
    ``l2sp``              everything, with the L2-SP penalty towards the pretrained weights
                          (:class:`L2SP`, all parameters anchored; ``alpha``, ``beta``)
    ``full``              everything, one learning rate
    ``scratch``           everything, from a fresh initialisation (:func:`reset_parameters`
                          with the fit's ``seed``): the no-transfer baseline
    ====================  =================================================================

    Parameters
    ----------
    model : torch.nn.Module
        The pretrained model (with ``blocks`` and ``head``).
    x, y
        Labelled target training data, as in :func:`tllab.finetune.fit`.
    strategy : str, default="full"
        One of :data:`STRATEGIES`.
    n_frozen : int, default=1
        Blocks frozen by ``"partial"``.
    lr : float > 0, default=1e-3
    lr_decay : float in (0, 1], default=0.5
        Per-block factor of ``"discriminative"``.
    alpha, beta : float >= 0, default=0.01
        L2-SP weights of ``"l2sp"``.
    copy_model : bool, default=True
        Train a deep copy and leave ``model`` untouched (so that several strategies can
        start from the same pretrained weights); with False ``model`` is trained in place.
    **fit_kwargs
        Passed to :func:`tllab.finetune.fit` (``epochs``, ``batch_size``, ``x_val``,
        ``y_val``, ``patience``, ``weight_decay``, ``seed``, ``progress``, ...).

    Returns
    -------
    FitResult
        Its ``model`` is the trained network (the copy unless ``copy_model=False``).

    Examples
    --------
    >>> import torch, tllab
    >>> _ = torch.manual_seed(0)
    >>> pretrained = tllab.models.SmallCNN(width=4)
    >>> x, y = torch.rand(20, 1, 8, 8), torch.arange(20) % 10
    >>> res = tllab.finetune.fine_tune(pretrained, x, y, "linear_probe", epochs=2)
    >>> res.model is pretrained, bool(torch.equal(res.model.blocks[0][0].weight,
    ...                                           pretrained.blocks[0][0].weight))
    (False, True)
    """
    strategy = check_choice(strategy, "strategy", STRATEGIES)
    blocks = _blocks(model)
    if not isinstance(copy_model, bool):
        raise TypeError(f"copy_model must be a bool; got {copy_model!r}")
    for key in ("param_groups", "penalty"):
        if key in fit_kwargs:
            raise TypeError(f"fine_tune sets {key} itself; call tllab.finetune.fit to pass it")
    lr = check_real(lr, "lr", low=0.0, low_inclusive=False)
    net = copy.deepcopy(model) if copy_model else model
    kwargs = dict(lr=lr, **fit_kwargs)
    if strategy == "linear_probe":
        freeze_blocks(net, len(blocks))
        if not any(isinstance(m, nn.modules.dropout._DropoutNd) for m in net.blocks.modules()):
            return _probe_on_features(net, x, y, kwargs)
    elif strategy == "partial":
        n_frozen = check_int(n_frozen, "n_frozen", min_value=0)
        if n_frozen > len(blocks):
            raise ValueError(f"n_frozen must be <= the number of blocks ({len(blocks)}); "
                             f"got {n_frozen}")
        freeze_blocks(net, n_frozen)
    else:
        freeze_blocks(net, 0)
        if strategy == "discriminative":
            kwargs["param_groups"] = layerwise_param_groups(net, lr, lr_decay)
        elif strategy == "l2sp":
            kwargs["penalty"] = L2SP(net, alpha=alpha, beta=beta)
        elif strategy == "scratch":
            reset_parameters(net, fit_kwargs.get("seed", 0))
    return fit(net, x, y, **kwargs)


def _probe_on_features(net: nn.Module, x, y, kwargs: dict) -> FitResult:
    """A linear probe trained on the frozen backbone's features, computed once.

    The same training as ``fit(net, ...)`` with every block frozen (same batches, same
    dropout draws in the head; frozen BatchNorm layers run in eval mode, so the features
    of an image do not depend on its batch), without recomputing the backbone at every step.
    """
    device, dtype = _model_device_dtype(net)

    def features(v):
        v = check_batch(v, "x", device=device, dtype=dtype)
        was = net.training
        net.eval()
        with torch.no_grad():
            extract = getattr(net, "features", net.blocks)
            out = torch.cat([extract(v[i:i + 1024]) for i in range(0, v.shape[0], 1024)])
        net.train(was)
        return out

    kwargs = dict(kwargs)
    if kwargs.get("x_val") is not None:
        kwargs["x_val"] = features(kwargs["x_val"])
    res = fit(net.head, features(x), y, **kwargs)
    net.eval()
    return FitResult(net, res.history, res.best_epoch, res.epochs_run)
