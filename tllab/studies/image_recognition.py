r"""The experiments of the image-recognition chapter; each returns plain numbers and arrays.

Source domain: printed digits rendered from matplotlib's fonts
(:func:`~tllab.data.rendered.render_digits`); target domain: scikit-learn's handwritten digits
(:func:`~tllab.data.digits.load_digits_domain`, fixed ``"train"``/``"test"`` halves).

* the pretrained source model: :data:`SOURCE_RECIPE`, :func:`train_source_cnn` (used by
  ``data/make_source_model.py``), :func:`fingerprints`;
* data: :func:`target_digits`, :func:`source_digits`, :func:`labelled_subset`;
* what the layers compute: :func:`first_layer_filters`, :func:`feature_maps`;
* experiments: :func:`finetune_study` (target accuracy vs labelled images per class, per
  strategy, over seeds), :func:`adaptation_study` (AdaBN, Deep CORAL, MMD, DANN without
  target labels), :func:`classification_report` (``sklearn.metrics``) and
  :func:`explorer_state` (one state of the chapter's explorer).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from .._checks import check_int, check_real, check_seeds
from ..adapt import fit_adapted
from ..data import load_digits_domain, render_digits
from ..finetune import adabn, evaluate, fine_tune, fit, predict, reset_parameters
from ..models import SmallCNN
from ._progress import progress_bar

__all__ = [
    "SOURCE_RECIPE",
    "train_source_cnn",
    "fingerprints",
    "target_digits",
    "source_digits",
    "labelled_subset",
    "first_layer_filters",
    "feature_maps",
    "STUDY_SETTINGS",
    "FinetuneStudy",
    "finetune_study",
    "ADAPT_SETTINGS",
    "AdaptStudy",
    "adaptation_study",
    "Report",
    "classification_report",
    "ExplorerState",
    "explorer_state",
]

#: How ``data/source_cnn.pt`` is made: rendered training and validation images (seeds
#: ``seed`` and ``seed + 1``), a :class:`~tllab.models.cnn.SmallCNN` of this ``width`` and
#: ``dropout`` initialised with ``seed``, trained by :func:`tllab.finetune.fit` (Adam) with
#: early stopping on the rendered validation images.
SOURCE_RECIPE: dict = {
    "n_train": 20000,
    "n_val": 2000,
    "width": 16,
    "dropout": 0.0,
    "epochs": 15,
    "batch_size": 128,
    "lr": 3e-3,
    "patience": 3,
    "seed": 0,
}


def _checksum(t: torch.Tensor) -> list[float]:
    """Order-sensitive fingerprint of a tensor: its sum and an index-weighted sum."""
    v = t.detach().double().cpu().reshape(-1)
    w = torch.linspace(-1.0, 1.0, v.numel(), dtype=torch.float64)
    return [float(v.sum()), float((v * w).sum())]


def _init_model(recipe: dict) -> SmallCNN:
    model = SmallCNN(width=recipe["width"], dropout=recipe["dropout"])
    return reset_parameters(model, seed=recipe["seed"])


def fingerprints(recipe: dict | None = None, *, n_images: int | None = None) -> dict:
    """Checksums of the first steps of :func:`train_source_cnn`: the rendered training images
    and the initial weights (what a regeneration must reproduce before any training).

    ``n_images`` renders only the first part of the recipe's training set (the renderer
    draws every image's randomness in one go, so this is a cheaper but different set; the
    stored fingerprint uses the full ``n_train``).

    Returns
    -------
    dict
        ``{"train_images": [sum, weighted sum], "train_labels": [...],
        "initial_weights": [...]}``.
    """
    recipe = {**SOURCE_RECIPE, **(recipe or {})}
    n = recipe["n_train"] if n_images is None else check_int(n_images, "n_images", min_value=1)
    x, y = render_digits(n, seed=recipe["seed"])
    params = torch.cat([p.reshape(-1) for p in _init_model(recipe).state_dict().values()
                        if p.is_floating_point()])
    return {"train_images": _checksum(x), "train_labels": _checksum(y),
            "initial_weights": _checksum(params)}


def target_digits(split: str, *, dtype=torch.float32, device=None):
    """The target domain's images ``(n, 1, 8, 8)`` and labels for ``split`` ("train"/"test").

    ``"train"`` (899 images) is the pool of labelled and unlabelled target images the
    strategies may use; ``"test"`` (898 images) is only ever used to measure accuracy.
    """
    x, y = load_digits_domain(split, flatten=False, dtype=dtype, device=device)
    return x.unsqueeze(1), y


def source_digits(n: int, *, seed: int = 100, dtype=torch.float32, device=None):
    """``n`` rendered source digits ``(n, 1, 8, 8)`` and labels (fresh images: the source
    model was trained on seeds 0 and 1)."""
    x, y = render_digits(n, seed=seed, dtype=dtype, device=device)
    return x.unsqueeze(1), y


def labelled_subset(y, per_class: int | None, *, seed: int = 0) -> torch.Tensor:
    """Indices of ``per_class`` random examples of every class of ``y`` (all if None).

    The draw is seeded; the indices are sorted by class, then by the random order.

    Examples
    --------
    >>> import torch
    >>> from tllab.studies.image_recognition import labelled_subset
    >>> idx = labelled_subset(torch.tensor([0, 1, 0, 1, 0, 1]), 2, seed=0)
    >>> torch.tensor([0, 1, 0, 1, 0, 1])[idx].tolist()
    [0, 0, 1, 1]
    """
    y = torch.as_tensor(y).cpu()
    if per_class is None:
        return torch.arange(y.shape[0])
    per_class = check_int(per_class, "per_class", min_value=1)
    gen = torch.Generator().manual_seed(check_int(seed, "seed", min_value=0))
    out = []
    for c in torch.unique(y).tolist():
        members = torch.nonzero(y == c)[:, 0]
        if members.numel() < per_class:
            raise ValueError(f"per_class={per_class} but class {c} has only {members.numel()} "
                             "examples")
        out.append(members[torch.randperm(members.numel(), generator=gen)[:per_class]])
    return torch.cat(out)


def train_source_cnn(recipe: dict | None = None, *, progress: bool = False):
    """Train the source CNN on rendered digits by :data:`SOURCE_RECIPE` (entries overridable).

    Deterministic for a given recipe on a given machine (seeded rendering, initialisation,
    batch order); ``data/make_source_model.py`` also fixes one CPU thread.

    Returns
    -------
    (SmallCNN, dict)
        The model (eval mode, CPU) and its metadata: the recipe, the epochs run, the
        rendered-validation accuracy, the source-only accuracy on the target test split and
        :func:`fingerprints` of the first steps.
    """
    recipe = {**SOURCE_RECIPE, **(recipe or {})}
    unknown = set(recipe) - set(SOURCE_RECIPE)
    if unknown:
        raise ValueError(f"recipe has unknown entries {sorted(unknown)}; "
                         f"known: {sorted(SOURCE_RECIPE)}")
    seed = recipe["seed"]
    x, y = render_digits(recipe["n_train"], seed=seed, dtype=torch.float32)
    xv, yv = render_digits(recipe["n_val"], seed=seed + 1, dtype=torch.float32)
    model = _init_model(recipe)
    init = torch.cat([p.reshape(-1) for p in model.state_dict().values()
                      if p.is_floating_point()])
    fp = {"train_images": _checksum(x), "train_labels": _checksum(y),
          "initial_weights": _checksum(init)}
    res = fit(model, x, y, x_val=xv, y_val=yv, epochs=recipe["epochs"], lr=recipe["lr"],
              batch_size=recipe["batch_size"], patience=recipe["patience"], seed=seed,
              progress=progress)
    xt, yt = target_digits("test")
    meta = {
        "recipe": recipe,
        "epochs_run": res.epochs_run,
        "best_epoch": res.best_epoch,
        "source_val_accuracy": evaluate(model, xv, yv).accuracy,
        "target_test_accuracy": evaluate(model, xt, yt).accuracy,
        "fingerprints": fp,
        "torch_version": str(torch.__version__),
    }
    return model.eval(), meta


# ------------------------------------------------------------------ what the layers compute
def first_layer_filters(model: SmallCNN) -> np.ndarray:
    """The first convolution's filters, ``(width, 3, 3)`` (input channel 0)."""
    return model.blocks[0][0].weight.detach().cpu().double().numpy()[:, 0]


@torch.no_grad()
def feature_maps(model: SmallCNN, image) -> list[np.ndarray]:
    """The feature maps of one image after each block, ``[(c, h, w), ...]``.

    For the last block the maps before its global average pool are returned (its output
    is their per-channel mean), so every entry is an image per channel.
    """
    was = model.training
    model.eval()
    device = next(model.parameters()).device
    x = torch.as_tensor(image, dtype=torch.float32).reshape(1, 1, *np.shape(image)[-2:])
    h = x.to(device)
    out = []
    for i, block in enumerate(model.blocks):
        if i == len(model.blocks) - 1:
            pre = block[:-2](h)  # conv, [BN], ReLU: the maps that the pool averages
            out.append(pre[0].cpu().double().numpy())
        h = block(h)
        if i < len(model.blocks) - 1:
            out.append(h[0].cpu().double().numpy())
    model.train(was)
    return out


# ------------------------------------------------------------------------ fine-tuning study
#: The strategies compared by :func:`finetune_study`: label → arguments of
#: :func:`~tllab.finetune.strategies.fine_tune`.  All use Adam; the linear probe trains only
#: a linear layer and takes a larger step; the discriminative rates are ``3e-3`` for the
#: head, halved per block below it.
STUDY_SETTINGS: dict[str, dict] = {
    "linear_probe": {"strategy": "linear_probe", "lr": 1e-2},
    "partial": {"strategy": "partial", "n_frozen": 2, "lr": 1e-3},
    "discriminative": {"strategy": "discriminative", "lr": 3e-3, "lr_decay": 0.5},
    "l2sp": {"strategy": "l2sp", "lr": 1e-3, "alpha": 0.1, "beta": 0.01},
    "full": {"strategy": "full", "lr": 1e-3},
    "scratch": {"strategy": "scratch", "lr": 1e-3},
}


class FinetuneStudy(NamedTuple):
    """Target test accuracy of each strategy, label budget and seed."""

    labels: tuple[str, ...]
    """The strategies (keys of the settings)."""
    budgets: tuple[int | None, ...]
    """Labelled target images per class, None for the whole training half."""
    n_labelled: tuple[int, ...]
    """Total labelled target images per budget."""
    seeds: tuple[int, ...]
    accuracy: np.ndarray
    """Shape ``(n_strategies, n_budgets, n_seeds)``."""
    source_only: float
    """Target test accuracy of the pretrained model itself (no target label)."""
    predictions: np.ndarray
    """Predicted test labels, shape ``(n_strategies, n_budgets, n_seeds, n_test)``."""
    source_predictions: np.ndarray
    """The pretrained model's predicted test labels, shape ``(n_test,)``."""


def _epochs(n: int, batch_size: int, steps: int) -> tuple[int, int]:
    bs = min(batch_size, n)
    return max(1, math.ceil(steps / math.ceil(n / bs))), bs


def finetune_study(
    model: SmallCNN,
    *,
    settings: dict[str, dict] | None = None,
    budgets: Sequence[int | None] = (1, 5, 10, 50, None),
    seeds: Sequence[int] = (0, 1, 2),
    steps: int = 50,
    batch_size: int = 32,
    progress: bool = False,
) -> FinetuneStudy:
    """Target accuracy vs labelled target images per class, for each transfer strategy.

    For every seed and budget ``k``, ``k`` labelled images per class are drawn from the
    target's training half (:func:`labelled_subset`, seeded; the same images for every
    strategy); every strategy starts from ``model`` and trains for about ``steps``
    mini-batch steps (whole epochs of at most ``batch_size`` images, so small budgets see
    their images many times) with the fit's ``seed``; accuracy is measured on the 898
    images of the target's test half.

    Parameters
    ----------
    model : SmallCNN
        The pretrained source model (left unchanged).
    settings : dict, optional
        Label → :func:`~tllab.finetune.strategies.fine_tune` arguments; default
        :data:`STUDY_SETTINGS`.
    budgets : sequence of int or None, default=(1, 5, 10, 50, None)
    seeds : sequence of int, default=(0, 1, 2)
    steps : int, default=50
    batch_size : int, default=32
    progress : bool, default=False

    Returns
    -------
    FinetuneStudy
    """
    settings = dict(STUDY_SETTINGS if settings is None else settings)
    steps = check_int(steps, "steps", min_value=1)
    batch_size = check_int(batch_size, "batch_size", min_value=1)
    budgets, seeds = tuple(budgets), tuple(check_seeds(seeds))
    if not budgets or not settings:
        raise ValueError("budgets and settings must not be empty")
    device = next(model.parameters()).device
    xtr, ytr = target_digits("train", device=device)
    xte, yte = target_digits("test", device=device)
    acc = np.zeros((len(settings), len(budgets), len(seeds)))
    preds = np.zeros((len(settings), len(budgets), len(seeds), yte.shape[0]), dtype=np.int8)
    jobs = [(b, s) for b in range(len(budgets)) for s in range(len(seeds))]
    jobs = progress_bar(jobs, progress, "fine-tuning study")
    for b, r in jobs:
        idx = labelled_subset(ytr.cpu(), budgets[b], seed=seeds[r]).to(device)
        epochs, bs = _epochs(idx.numel(), batch_size, steps)
        for i, kwargs in enumerate(settings.values()):
            kwargs = dict(kwargs)
            strategy = kwargs.pop("strategy")
            res = fine_tune(model, xtr[idx], ytr[idx], strategy, epochs=epochs, batch_size=bs,
                            seed=seeds[r], **kwargs)
            pred = predict(res.model, xte)
            preds[i, b, r] = pred.cpu().numpy()
            acc[i, b, r] = float((pred == yte).double().mean())
    n_lab = tuple(labelled_subset(ytr.cpu(), k).numel() for k in budgets)
    source_pred = predict(model, xte)
    return FinetuneStudy(tuple(settings), budgets, n_lab, seeds, acc,
                         float((source_pred == yte).double().mean()), preds,
                         source_pred.cpu().numpy().astype(np.int8))


# ----------------------------------------------------------------- unsupervised adaptation
#: The unsupervised adaptations of :func:`adaptation_study`: label → ``fit_adapted``
#: arguments (``alignment``, ``weight``); ``"adabn"`` only re-estimates the BatchNorm
#: statistics, ``"source_only"`` continues the source training on the same schedule
#: without alignment (the control for the others).  The weights are the best of a small
#: grid (1, 3, 10 for CORAL and MMD; 0.1, 0.3, 1 for DANN) *by target test accuracy* —
#: a choice a practitioner without target labels cannot make, so the scores are optimistic.
ADAPT_SETTINGS: dict[str, dict] = {
    "source_only": {"alignment": None, "weight": 0.0},
    "coral": {"alignment": "coral", "weight": 10.0},
    "mmd": {"alignment": "mmd", "weight": 3.0},
    "dann": {"alignment": "dann", "weight": 1.0},
}


class AdaptStudy(NamedTuple):
    """Target test accuracy without target labels."""

    labels: tuple[str, ...]
    """``"pretrained"``, ``"adabn"`` and the keys of the settings."""
    seeds: tuple[int, ...]
    accuracy: np.ndarray
    """Shape ``(n_methods, n_seeds)``; the two deterministic rows repeat their value."""


def adaptation_study(
    model: SmallCNN,
    *,
    settings: dict[str, dict] | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    n_source: int = 1000,
    epochs: int = 3,
    batch_size: int = 64,
    lr: float = 1e-3,
    progress: bool = False,
) -> AdaptStudy:
    """Adapt the pretrained model to the target without a single target label.

    ``"pretrained"`` is the stored model; ``"adabn"`` re-estimates its BatchNorm statistics
    on the 899 unlabelled images of the target's training half
    (:func:`~tllab.finetune.strategies.adabn`; deterministic); each entry of ``settings``
    continues training the pretrained model with :func:`tllab.adapt.fit_adapted` on
    ``n_source`` fresh rendered source images (labelled) and the same unlabelled target
    images, with an alignment term on the penultimate features (``model.blocks`` as the
    feature extractor).  Accuracy on the target's test half.

    Returns
    -------
    AdaptStudy
    """
    settings = dict(ADAPT_SETTINGS if settings is None else settings)
    seeds = tuple(check_seeds(seeds))
    device = next(model.parameters()).device
    xs, ys = source_digits(check_int(n_source, "n_source", min_value=2), device=device)
    xtr, _ = target_digits("train", device=device)
    xte, yte = target_digits("test", device=device)
    base = evaluate(model, xte, yte).accuracy
    bn = evaluate(adabn(copy.deepcopy(model), xtr), xte, yte).accuracy
    rows = [[base] * len(seeds), [bn] * len(seeds)]
    jobs = list(settings.items())
    jobs = progress_bar(jobs, progress, "adaptation study")
    for _, kwargs in jobs:
        row = []
        for seed in seeds:
            net = copy.deepcopy(model)
            fit_adapted(net.blocks, net.head, xs, ys, xtr, epochs=epochs, batch_size=batch_size,
                        lr=check_real(lr, "lr", low=0.0, low_inclusive=False), seed=seed,
                        **kwargs)
            row.append(evaluate(net, xte, yte).accuracy)
        rows.append(row)
    return AdaptStudy(("pretrained", "adabn", *settings), seeds, np.asarray(rows))


# ----------------------------------------------------------------------------- evaluation
class Report(NamedTuple):
    """Classification metrics from ``sklearn.metrics`` (classes 0–9)."""

    accuracy: float
    macro_recall: float
    """Mean of the per-class recalls (= balanced accuracy)."""
    macro_f1: float
    recall: np.ndarray
    """Per class, the share of its true members predicted correctly."""
    precision: np.ndarray
    """Per class, the share of its predicted members that are correct."""
    f1: np.ndarray
    confusion: np.ndarray
    """``confusion[i, j]`` counts the images of class ``i`` predicted as ``j``."""


def classification_report(y_true, y_pred, *, n_classes: int = 10) -> Report:
    """Accuracy, per-class and macro recall / precision / F1 and the confusion matrix.

    Computed with ``sklearn.metrics`` (``accuracy_score``,
    ``precision_recall_fscore_support``, ``confusion_matrix``), with every class listed
    even when it is never predicted (its precision is then 0).

    Examples
    --------
    >>> from tllab.studies.image_recognition import classification_report
    >>> r = classification_report([0, 0, 1, 1], [0, 1, 1, 1], n_classes=2)
    >>> r.accuracy, r.recall.tolist(), round(r.macro_f1, 4)
    (0.75, [0.5, 1.0], 0.7333)
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    yt = np.asarray(torch.as_tensor(y_true).cpu())
    yp = np.asarray(torch.as_tensor(y_pred).cpu())
    labels = list(range(check_int(n_classes, "n_classes", min_value=2)))
    p, r, f, _ = precision_recall_fscore_support(yt, yp, labels=labels, zero_division=0)
    return Report(float(accuracy_score(yt, yp)), float(r.mean()), float(f.mean()), r, p, f,
                  confusion_matrix(yt, yp, labels=labels))


# ------------------------------------------------------------------------------- explorer
class ExplorerState(NamedTuple):
    """One state of the chapter's explorer: a fine-tuned model against the source model."""

    n_frozen: int
    lr: float
    per_class: int
    accuracy: float
    source_accuracy: float
    recall: np.ndarray
    source_recall: np.ndarray
    confusion: np.ndarray


def explorer_state(model: SmallCNN, n_frozen: int = 1, lr: float = 1e-3, per_class: int = 5,
                   *, seed: int = 0, steps: int = 50, batch_size: int = 32) -> ExplorerState:
    """Fine-tune ``model`` with its first ``n_frozen`` blocks frozen on ``per_class`` labels
    per class (Adam at ``lr``, about ``steps`` steps) and report the target test metrics
    next to the source model's."""
    n_frozen = check_int(n_frozen, "n_frozen", min_value=0)
    lr = check_real(lr, "lr", low=0.0, low_inclusive=False)
    device = next(model.parameters()).device
    xtr, ytr = target_digits("train", device=device)
    xte, yte = target_digits("test", device=device)
    idx = labelled_subset(ytr.cpu(), per_class, seed=seed).to(device)
    epochs, bs = _epochs(idx.numel(), batch_size, check_int(steps, "steps", min_value=1))
    strategy = "linear_probe" if n_frozen == len(model.blocks) else "partial"
    res = fine_tune(model, xtr[idx], ytr[idx], strategy, n_frozen=n_frozen, lr=lr,
                    epochs=epochs, batch_size=bs, seed=seed)
    after = classification_report(yte, predict(res.model, xte))
    before = classification_report(yte, predict(model, xte))
    return ExplorerState(n_frozen, lr, per_class, after.accuracy, before.accuracy,
                         after.recall, before.recall, after.confusion)
