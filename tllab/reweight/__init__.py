r"""Instance reweighting for covariate shift: density-ratio estimators and their use.

Under covariate shift the source law ``p_s(x)`` and the target law ``p_t(x)`` differ
while ``p(y | x)`` is shared, so a source risk weighted by ``w(x) = p_t(x) / p_s(x)``
is unbiased for the target risk.  This module estimates ``w`` at the source points,

* :func:`~tllab.kmm_weights`: Kernel Mean Matching (Huang et al., 2007), a box- and
  slab-constrained QP solved in torch (CPU or GPU) to a certified tolerance;
* :func:`~tllab.kliep_weights`: KLIEP (Sugiyama et al., 2008);
* :func:`~tllab.ulsif_weights`: unconstrained least-squares importance fitting (Kanamori et
  al., 2009), closed form;
* :func:`~tllab.classifier_weights`: the odds of a probabilistic domain classifier;

all called as ``f(xs, xt, ...)`` and returning a tensor of shape ``(n_s,)`` on ``xs``'s
device and dtype.  It also gives the tools that show what weights cost and how to use
them: :func:`~tllab.effective_sample_size`, :func:`~tllab.flatten_weights`,
:func:`~tllab.clip_weights`, :func:`~tllab.importance_weighted_risk` and
importance-weighted cross-validation,
:func:`~tllab.iwcv_score` (Sugiyama, Krauledat & Müller, 2007).

Kernel convention (as everywhere in :mod:`tllab`): Gaussian
``k(x, y) = exp(-||x - y||² / (2σ²))`` with ``bandwidth=σ``; ``"median"`` is
:func:`tllab.median_bandwidth` of the pooled sample ``xs ∪ xt``.
"""

from .evaluation import (
    IWCV_LOSSES,
    clip_weights,
    effective_sample_size,
    flatten_weights,
    importance_weighted_risk,
    iwcv_score,
)
from .kmm import (
    KMM_FALLBACK_MEMORY,
    KMM_MEMORY_FRACTION,
    KMMResult,
    kmm_memory_budget,
    kmm_weights,
)
from .ratio import (
    RATIO_CV_FACTORS,
    BandwidthSelection,
    classifier_weights,
    kliep_weights,
    select_ratio_bandwidth,
    ulsif_weights,
)

__all__ = [
    "KMM_MEMORY_FRACTION",
    "KMM_FALLBACK_MEMORY",
    "KMMResult",
    "kmm_memory_budget",
    "kmm_weights",
    "kliep_weights",
    "ulsif_weights",
    "RATIO_CV_FACTORS",
    "BandwidthSelection",
    "select_ratio_bandwidth",
    "classifier_weights",
    "IWCV_LOSSES",
    "effective_sample_size",
    "flatten_weights",
    "clip_weights",
    "importance_weighted_risk",
    "iwcv_score",
]
