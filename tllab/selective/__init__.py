r"""Selective transfer: transfer the features and the source examples that fit the target.

Three ways to transfer *less* so as to transfer *better*, and two ways to share more wisely:

* **Feature gates** (:mod:`tllab.selective.gates`): a learnable per-feature gate
  ``x ↦ g ⊙ x`` in front of a classifier, either independent sigmoids ``g_j ∈ (0, 1)`` or a
  softmax scaled to ``Σ_j g_j = d`` (attention over features), trained with the source
  classification loss plus a penalty ``λ Σ_j g_j D_j`` on the features whose law moved
  between the domains (:func:`~tllab.selective.gates.fit_feature_gates`);
* **Source-sample selection** (:mod:`tllab.selective.selection`): keep the source points most
  typical of the target, scored by a density ratio from :mod:`tllab.reweight` or by kernel
  similarity to the target (:func:`~tllab.selective.selection.select_source_samples`);
* **Multi-task learning** (:mod:`tllab.selective.multitask`): a shared trunk with one head
  per task (:func:`~tllab.selective.multitask.fit_multitask`);
* **Metric learning** (:mod:`tllab.selective.metric`): an embedding where same-class points
  are close across domains, trained with a triplet or contrastive loss
  (:func:`~tllab.selective.metric.fit_embedding`), measured by
  :func:`~tllab.selective.metric.nearest_neighbour_accuracy`.

Everything follows the input's device and dtype; the trainers are deterministic for a
given ``seed``.
"""

from .gates import (
    GATE_KINDS,
    FeatureGate,
    GatedClassifier,
    GateFit,
    SelectiveTransferLoss,
    feature_discrepancy,
    feature_gates,
    fit_feature_gates,
    selective_transfer_loss,
)
from .metric import (
    ContrastiveLoss,
    EmbeddingFit,
    EmbeddingNet,
    TripletLoss,
    contrastive_loss,
    fit_embedding,
    nearest_neighbour_accuracy,
    sample_triplets,
    triplet_loss,
)
from .multitask import MultiTaskFit, MultiTaskNet, fit_multitask
from .selection import (
    RATIO_ESTIMATORS,
    SELECTION_SCORES,
    SourceSelection,
    select_source_samples,
    select_top,
    source_scores,
)

__all__ = [
    # feature gates
    "GATE_KINDS",
    "feature_gates",
    "FeatureGate",
    "GatedClassifier",
    "feature_discrepancy",
    "selective_transfer_loss",
    "SelectiveTransferLoss",
    "GateFit",
    "fit_feature_gates",
    # source-sample selection
    "SELECTION_SCORES",
    "RATIO_ESTIMATORS",
    "SourceSelection",
    "source_scores",
    "select_top",
    "select_source_samples",
    # multi-task learning
    "MultiTaskNet",
    "MultiTaskFit",
    "fit_multitask",
    # metric learning
    "triplet_loss",
    "TripletLoss",
    "contrastive_loss",
    "ContrastiveLoss",
    "EmbeddingNet",
    "sample_triplets",
    "EmbeddingFit",
    "fit_embedding",
    "nearest_neighbour_accuracy",
]
