"""Transfer Learning Lab: the computations behind the interactive transfer-learning book.

The top level holds the core library, what a practitioner imports: divergences and the MMD
test, kernels, density-ratio estimators and what weights cost, importance-weighted learners
and the device helpers.  Data sets are in :mod:`tllab.data`, each chapter's experiments in
:mod:`tllab.studies`, figures and explorers in :mod:`tllab.viz`.

Everything accepts NumPy arrays or torch tensors and returns torch tensors on the input's
device.  See the book for the ideas and ``help(tllab.<name>)`` for the exact definitions.
"""

import importlib as _importlib

from . import data, models, reweight  # noqa: F401  (tllab.data.X etc. after `import tllab`)
from .classifier import crossfit_log_ratio, fit_domain_classifier
from .device import as_tensor, default_device, seed_everything
from .divergence import (
    MMDTestResult,
    js_divergence,
    js_divergence_samples,
    kl_divergence,
    mmd2,
    mmd_test,
    proxy_a_distance,
)
from .kernels import kernel_matrix, kernel_matvec, kernel_sum, median_bandwidth
from .models import (
    logistic_predict,
    polynomial_features,
    polynomial_predict,
    weighted_least_squares,
    weighted_logistic_regression,
)
from .reweight import (
    BandwidthSelection,
    KMMResult,
    classifier_weights,
    clip_weights,
    effective_sample_size,
    flatten_weights,
    importance_weighted_risk,
    iwcv_score,
    kliep_weights,
    kmm_weights,
    select_ratio_bandwidth,
    ulsif_weights,
)

__version__ = "0.1.0"

#: Submodules reachable as attributes after a plain ``import tllab`` (imported on first use):
#: the core's concept modules (``tllab.align.CORAL``, ``tllab.finetune.fit``, ...),
#: the chapter studies and the views.
_SUBMODULES = ("adapt", "adversarial", "align", "finetune", "selective", "studies", "viz")


def __getattr__(name: str):
    if name in _SUBMODULES:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    # device
    "as_tensor",
    "default_device",
    "seed_everything",
    # kernels
    "kernel_matrix",
    "kernel_matvec",
    "kernel_sum",
    "median_bandwidth",
    # divergences and the MMD test
    "MMDTestResult",
    "js_divergence",
    "js_divergence_samples",
    "kl_divergence",
    "mmd2",
    "mmd_test",
    "proxy_a_distance",
    # domain classifiers
    "crossfit_log_ratio",
    "fit_domain_classifier",
    # instance reweighting
    "BandwidthSelection",
    "KMMResult",
    "classifier_weights",
    "clip_weights",
    "effective_sample_size",
    "flatten_weights",
    "importance_weighted_risk",
    "iwcv_score",
    "kliep_weights",
    "kmm_weights",
    "select_ratio_bandwidth",
    "ulsif_weights",
    # importance-weighted learners
    "logistic_predict",
    "polynomial_features",
    "polynomial_predict",
    "weighted_least_squares",
    "weighted_logistic_regression",
]
