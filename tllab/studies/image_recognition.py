r"""The experiments of the image-recognition chapter; each returns plain numbers and arrays.

Source domain: printed digits rendered from matplotlib's fonts
(:func:`tllab.data.render_digits`); target domain: scikit-learn's handwritten digits
(:func:`tllab.data.load_digits_domain`, fixed ``"train"``/``"test"`` halves).

* the pretrained source model: :data:`SOURCE_RECIPE`, :func:`train_source_cnn` (used by
  ``data/make_source_model.py``), :func:`fingerprints`;
* data: :func:`target_digits`, :func:`labelled_subset` (k labelled images per class);
* experiments: :func:`source_only`, :func:`finetune_study` (accuracy vs labels per class,
  per strategy, over seeds), :func:`adaptation_study` (AdaBN, Deep CORAL / MMD, DANN),
  :func:`classification_report`, :func:`explorer_grid`.
"""

from __future__ import annotations

import torch

from .._checks import check_int
from ..data import load_digits_domain, render_digits
from ..finetune import evaluate, fit, reset_parameters
from ..models import SmallCNN

__all__ = [
    "SOURCE_RECIPE",
    "train_source_cnn",
    "fingerprints",
    "target_digits",
]

#: How ``data/source_cnn.pt`` is made: rendered training and validation images (seeds
#: ``seed`` and ``seed + 1``), a :class:`~tllab.models.SmallCNN` of this ``width`` and
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
    """The target domain's images ``(n, 1, 8, 8)`` and labels for ``split`` ("train"/"test")."""
    x, y = load_digits_domain(split, flatten=False, dtype=dtype, device=device)
    return x.unsqueeze(1), y


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
