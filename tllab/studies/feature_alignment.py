r"""The experiments of the feature-alignment chapter; each returns plain numbers and arrays.

* :func:`make_network`: the small MLP (feature extractor + linear head) every method trains;
* :func:`run_method`: one method on one source/target pair: align (CORAL, subspace
  alignment, TCA) then train, or train with an alignment term (Deep CORAL, MMD, DANN), or
  neither (source only); target accuracy, proxy A-distance of the learned features, time;
* :func:`compare_methods`: every method over several seeds, mean and standard deviation;
* :func:`shallow_maps`, :func:`decision_grids`: what the figures draw;
* :func:`label_shift_study` and :func:`semi_supervised_study`;
* :func:`explorer_state`: one state of the chapter's explorer (rotation angle, weight λ).

Training loops of these small networks run on one thread (:func:`one_thread`): with two
OpenMP threads on a shared CPU each tiny step costs many times more.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from .._checks import check_choice, check_int, check_real, check_seeds
from ..adapt import extract_features, fit_adapted, predict
from ..align import CORAL, TCA, SubspaceAlignment
from ..data import rotated_moons
from ..data._common import DomainPair
from ..divergence import proxy_a_distance

__all__ = [
    "METHODS",
    "METHOD_LABELS",
    "DEFAULT_WEIGHTS",
    "MOONS_SETTINGS",
    "DIGITS_SETTINGS",
    "one_thread",
    "make_network",
    "MethodRun",
    "run_method",
    "MethodSummary",
    "compare_methods",
    "shallow_maps",
    "decision_grids",
    "label_shift_study",
    "semi_supervised_study",
    "ExplorerState",
    "explorer_state",
]

METHODS = ("source_only", "coral", "subspace", "tca", "deep_coral", "mmd", "dann")
METHOD_LABELS = {
    "source_only": "source only",
    "coral": "CORAL",
    "subspace": "subspace alignment",
    "tca": "TCA",
    "deep_coral": "Deep CORAL",
    "mmd": "MMD loss",
    "dann": "DANN",
}
_SHALLOW = ("coral", "subspace", "tca")
_DEEP = {"deep_coral": "coral", "mmd": "mmd", "dann": "dann"}
#: Weight λ of the alignment term of each deep method (the losses live on different scales:
#: Deep CORAL's is divided by 4 d²).
DEFAULT_WEIGHTS = {"deep_coral": 10.0, "mmd": 1.0, "dann": 1.0}
#: Training budget and network of the two-moons experiments (8 features; with wider ones
#: the adversarial and MMD terms rarely find the rotation back).
MOONS_SETTINGS = {"epochs": 100, "batch_size": 128, "n_features": 8, "n_components": 2}
#: The same for the 8x8 digits.
DIGITS_SETTINGS = {"epochs": 20, "batch_size": 128, "n_features": 32, "n_components": 20}


@contextlib.contextmanager
def one_thread():
    """Run the block with one intra-op thread, then restore the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def make_network(d_in: int, n_classes: int, *, hidden: int = 64, n_features: int = 32,
                 seed: int = 0, dtype: torch.dtype = torch.float32) -> tuple[nn.Module,
                                                                              nn.Module]:
    """A two-layer ReLU feature extractor ``d_in → hidden → n_features`` and a linear head.

    Parameters
    ----------
    d_in, n_classes : int
    hidden, n_features : int
    seed : int
        Seeds the initialisation (the global random state is left as it was).
    dtype : torch.dtype, default=torch.float32

    Returns
    -------
    (nn.Module, nn.Module)
        ``features`` and ``head``.

    Examples
    --------
    >>> from tllab.studies import feature_alignment as study
    >>> f, h = study.make_network(2, 2, hidden=8, n_features=4)
    >>> h(f(__import__("torch").zeros(3, 2))).shape
    torch.Size([3, 2])
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(check_int(seed, "seed", min_value=0))
        features = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(),
                                 nn.Linear(hidden, n_features), nn.ReLU())
        head = nn.Linear(n_features, n_classes)
    return features.to(dtype), head.to(dtype)


def _aligner(method: str, n_components: int | None, tca_kernel: str, n_landmarks, seed: int):
    if method == "coral":
        return CORAL(reg=1.0)
    if method == "subspace":
        return SubspaceAlignment(n_components)
    return TCA(n_components, kernel=tca_kernel, n_landmarks=n_landmarks, seed=seed)


class MethodRun(NamedTuple):
    """One method trained once (:func:`run_method`)."""

    method: str
    target_accuracy: float
    source_accuracy: float
    pad: float
    """Proxy A-distance between source and target features (the head's input)."""
    seconds: float
    """Alignment plus training time."""
    features: nn.Module
    head: nn.Module
    aligner: Any
    """The fitted CORAL / SubspaceAlignment / TCA, or None."""


def run_method(
    method: str,
    pair: DomainPair,
    *,
    seed: int = 0,
    weight: float | None = None,
    epochs: int = 30,
    batch_size: int = 128,
    lr: float = 2e-3,
    hidden: int = 64,
    n_features: int = 32,
    n_components: int | None = None,
    tca_kernel: str = "linear",
    n_landmarks: int | None = None,
    n_labelled: int = 0,
    with_pad: bool = True,
) -> MethodRun:
    r"""Train one method on a source/target pair and score it on the target.

    Shallow methods fit their map on ``(xs, xt)`` (without labels) and the network is then
    trained on the mapped source; deep methods train the network with their alignment term
    (weight ``weight``, ``DEFAULT_WEIGHTS`` by default); ``"source_only"`` trains on the
    raw source.  Every method uses the same network (:func:`make_network` with ``seed``)
    and the same optimiser budget.  With ``n_labelled > 0`` the first ``n_labelled`` target
    points are given with their labels (semi-supervised DA) and excluded from the score.

    Parameters
    ----------
    method : str
        One of ``METHODS``.
    pair : DomainPair
        Labelled source and target (the target labels are only used for scoring and for
        the ``n_labelled`` first points).
    seed : int, default=0
    weight : float, optional
    epochs, batch_size, lr : training budget for :func:`tllab.adapt.fit_adapted`
    hidden, n_features : network size
    n_components : int, optional
        Subspace / TCA dimension (default: ``min(d, 20)``).
    tca_kernel : {"linear", "gaussian"}, default="linear"
    n_landmarks : int, optional
        TCA landmarks (Gaussian kernel).
    n_labelled : int, default=0
    with_pad : bool, default=True
        Compute the proxy A-distance (a cross-fitted domain classifier; skip it to save
        time).

    Returns
    -------
    MethodRun

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import feature_alignment as study
    >>> pair = tllab.data.rotated_moons(100, dtype=__import__("torch").float32)
    >>> run = study.run_method("coral", pair, epochs=5)
    >>> 0.0 <= run.target_accuracy <= 1.0 and run.aligner is not None
    True
    """
    method = check_choice(method, "method", METHODS)
    n_labelled = check_int(n_labelled, "n_labelled", min_value=0)
    xs, ys, xt, yt = pair
    if n_labelled >= xt.shape[0]:
        raise ValueError(f"n_labelled must be below the target size {xt.shape[0]}; "
                         f"got {n_labelled}")
    k = min(xs.shape[1], 20) if n_components is None else n_components
    n_classes = int(torch.cat([ys, yt]).max()) + 1
    with one_thread():
        start = time.perf_counter()
        aligner = None
        zs, zt = xs, xt
        if method in _SHALLOW:
            aligner = _aligner(method, k, tca_kernel, n_landmarks, seed)
            zs, zt = aligner.fit_transform(xs, xt)
            zs, zt = zs.to(xs.dtype), zt.to(xs.dtype)
        features, head = make_network(zs.shape[1], n_classes, hidden=hidden,
                                      n_features=n_features, seed=seed, dtype=zs.dtype)
        alignment = _DEEP.get(method)
        w = DEFAULT_WEIGHTS.get(method, 1.0) if weight is None else check_real(weight, "weight",
                                                                                low=0.0)
        labelled = {}
        if n_labelled:
            labelled = dict(xt_labelled=zt[:n_labelled], yt_labelled=yt[:n_labelled])
        fit_adapted(features, head, zs, ys, zt, alignment=alignment, weight=w, epochs=epochs,
                    batch_size=batch_size, lr=lr, seed=seed, **labelled)
        seconds = time.perf_counter() - start
        test_x, test_y = zt[n_labelled:], yt[n_labelled:]
        acc_t = float((predict(features, head, test_x) == test_y).double().mean())
        acc_s = float((predict(features, head, zs) == ys).double().mean())
        pad = float("nan")
        if with_pad:
            pad = proxy_a_distance(extract_features(features, zs), extract_features(features, zt),
                                   seed=seed)
    return MethodRun(method, acc_t, acc_s, pad, seconds, features, head, aligner)


class MethodSummary(NamedTuple):
    """Mean and standard deviation over seeds of one method's runs (:func:`compare_methods`)."""

    method: str
    accuracy: np.ndarray
    """Target accuracy per seed."""
    source_accuracy: np.ndarray
    pad: np.ndarray
    seconds: np.ndarray


def compare_methods(pair: DomainPair | Callable[[int], DomainPair],
                    methods: Sequence[str] = METHODS, seeds: Sequence[int] = range(5),
                    **run_kwargs) -> list[MethodSummary]:
    """Every method over several seeds (network initialisation and batch order; and the data
    when ``pair`` is a function of the seed).

    Examples
    --------
    >>> import tllab, torch
    >>> from tllab.studies import feature_alignment as study
    >>> pair = tllab.data.rotated_moons(80, dtype=torch.float32)
    >>> rows = study.compare_methods(pair, ["source_only"], seeds=[0, 1], epochs=2,
    ...                              with_pad=False)
    >>> rows[0].accuracy.shape
    (2,)
    """
    seeds = check_seeds(seeds)
    return [_summary(method, [run_method(method, pair(s) if callable(pair) else pair, seed=s,
                                         **run_kwargs) for s in seeds])
            for method in methods]


def shallow_maps(pair: DomainPair, n_components: int = 2, **tca_kwargs) -> dict:
    """The source and target after each shallow map (for the before/after figure).

    Returns
    -------
    dict
        ``{"none" | "coral" | "subspace" | "tca": (zs, zt)}`` as NumPy arrays.

    Examples
    --------
    >>> import tllab
    >>> from tllab.studies import feature_alignment as study
    >>> maps = study.shallow_maps(tllab.data.rotated_moons(50))
    >>> sorted(maps), maps["tca"][0].shape
    (['coral', 'none', 'subspace', 'tca'], (50, 2))
    """
    xs, _, xt, _ = pair
    kw = {"kernel": "gaussian", **tca_kwargs}
    out = {"none": (xs, xt),
           "coral": CORAL(reg=1e-3).fit_transform(xs, xt),
           "subspace": SubspaceAlignment(n_components).fit_transform(xs, xt),
           "tca": TCA(n_components, **kw).fit_transform(xs, xt)}
    return {k: (a.detach().cpu().numpy(), b.detach().cpu().numpy()) for k, (a, b) in out.items()}


def decision_grids(runs: Sequence[MethodRun], lim: float = 2.0,
                   size: int = 81) -> dict[str, np.ndarray]:
    """``P(y = 1 | x)`` of each (2-D input) run on a square grid, for boundary pictures.

    Shallow runs are evaluated through their fitted map (source side), which is what the
    trained classifier sees.

    Returns
    -------
    dict
        ``{"grid": (size, size, 2) array, method: (size, size) probabilities}``.
    """
    g = np.linspace(-lim, lim, size)
    gx, gy = np.meshgrid(g, g)
    pts = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1))
    out = {"grid": np.stack([gx, gy], -1)}
    for r in runs:
        x = pts.to(next(r.head.parameters()).dtype)
        if r.aligner is not None:
            x = r.aligner.transform(x) if isinstance(r.aligner, TCA) else \
                r.aligner.transform(x, domain="target")
        prob = predict(r.features, r.head, x, logits=True).softmax(1)[:, 1]
        out[r.method] = prob.reshape(size, size).numpy()
    return out


def _summary(method: str, runs: Sequence[MethodRun]) -> MethodSummary:
    return MethodSummary(method, *(np.array([getattr(r, f) for r in runs])
                                   for f in ("target_accuracy", "source_accuracy", "pad",
                                             "seconds")))


def label_shift_study(methods: Sequence[str] = ("source_only", "dann"),
                      priors: Sequence[float] = (0.5, 0.9), seeds: Sequence[int] = range(5),
                      *, angle: float = 30.0, n: int = 300, **run_kwargs) -> dict:
    """The rotated moons (seed ``s`` draws the data and initialises the network) when the
    target's share of class 1 is each of ``priors``; the source stays balanced.

    Returns
    -------
    dict
        ``{(method, prior): MethodSummary}``.

    Examples
    --------
    >>> from tllab.studies import feature_alignment as study
    >>> out = study.label_shift_study(["source_only"], [0.5], [0], n=60, epochs=2,
    ...                               with_pad=False)
    >>> list(out), out[("source_only", 0.5)].accuracy.shape
    ([('source_only', 0.5)], (1,))
    """
    seeds = list(seeds)
    out = {}
    for prior in priors:
        prior = check_real(prior, "priors", low=0.0, high=1.0)
        for method in methods:
            out[(method, prior)] = _summary(method, [
                run_method(method, _moons(n, angle, s, prior), seed=s, **run_kwargs)
                for s in seeds])
    return out


def semi_supervised_study(pair: DomainPair | Callable[[int], DomainPair],
                          methods: Sequence[str] = ("source_only", "dann"),
                          n_labelled: Sequence[int] = (0, 10, 30),
                          seeds: Sequence[int] = range(5), **run_kwargs) -> dict:
    """Target accuracy as a handful of labelled target points joins the training.

    The first ``k`` target points are labelled (scored on the others).

    Returns
    -------
    dict
        ``{(method, k): MethodSummary}``.
    """
    seeds = list(seeds)
    out = {}
    for k in n_labelled:
        for method in methods:
            out[(method, int(k))] = _summary(method, [
                run_method(method, pair(s) if callable(pair) else pair, seed=s, n_labelled=k,
                           **run_kwargs) for s in seeds])
    return out


def _moons(n: int, angle: float, seed: int, prior: float = 0.5) -> DomainPair:
    return rotated_moons(n, angle=angle, seed=seed, target_prior=prior, dtype=torch.float32)


class ExplorerState(NamedTuple):
    """One state of the chapter's explorer (:func:`explorer_state`)."""

    angle: float
    weight: float
    method: str
    xs: np.ndarray
    ys: np.ndarray
    xt: np.ndarray
    yt: np.ndarray
    grid: np.ndarray
    prob: np.ndarray
    """``P(y = 1 | x)`` of the adapted network on the grid."""
    prob_source_only: np.ndarray
    accuracy: float
    accuracy_source_only: float


def explorer_state(angle: float = 40.0, weight: float = 1.0, method: str = "dann", *,
                   seed: int = 0, n: int = 300, epochs: int = 100) -> ExplorerState:
    """Rotated moons at ``angle``; a network trained with ``method`` at weight λ = ``weight``
    and, from the same start, one trained on the source only.

    Examples
    --------
    >>> from tllab.studies import feature_alignment as study
    >>> s = study.explorer_state(30.0, 1.0, epochs=3)
    >>> s.prob.shape == s.grid.shape[:2]
    True
    """
    angle = check_real(angle, "angle")
    weight = check_real(weight, "weight", low=0.0)
    method = check_choice(method, "method", tuple(_DEEP))
    pair = _moons(n, angle, seed)
    kw = dict(MOONS_SETTINGS, seed=seed, epochs=epochs, with_pad=False)
    adapted = run_method(method, pair, weight=weight, **kw)
    plain = run_method("source_only", pair, **kw)
    grids = decision_grids([adapted, plain], lim=2.2, size=61)
    as_np = [t.numpy() for t in pair]
    return ExplorerState(angle, weight, method, *as_np, grids["grid"], grids[method],
                         grids["source_only"], adapted.target_accuracy, plain.target_accuracy)
