r"""The experiments of the foundations chapter; each returns plain numbers and arrays.

All of them use scikit-learn's 8×8 digits (:mod:`tllab.data.digits`): a clean, labelled
*source* half and a *target* half seen through a shift, and the multi-class linear model of
:func:`tllab.models.one_vs_rest_logistic`, penalised in "sum" form (``reg = tau / n``: a
Gaussian prior of precision ``tau``, which the data outweigh as ``n`` grows).

The package is split by concept, and every name is importable from here:

* :mod:`.classifier`: the chapter's digit classifier (:func:`~.classifier.fit_classifier`,
  :func:`~.classifier.accuracy`), feature-based transfer by per-domain standardising
  (:func:`~.classifier.standardize_domain`) and the draws of a seed's target labels and test
  images (:func:`~.classifier.split_target`, :func:`~.classifier.stratified_budget`);
* :mod:`.relations`: relation-based transfer, the distances between class means
  (:func:`~.relations.class_relations`) and whether they survive a rotation
  (:func:`~.relations.relation_study`);
* :mod:`.transfer`: the families of transfer (:func:`~.transfer.family_study`: instance-,
  feature- and model-based transfer against no transfer, over seeds), the learning curve
  (:func:`~.transfer.learning_curve`: target-only against source-regularised training for a
  budget of target labels, for a rotated target or a source with concept shift) and one
  state of the chapter's explorer (:func:`~.transfer.explorer_state`, drawn by
  :mod:`tllab.viz`);
* :mod:`.bound`: the terms of Ben-David et al.'s bound measured on the digit shifts
  (:func:`~.bound.bound_study`, :func:`~.bound.rank_agreement`).
"""

from .bound import (
    DEFAULT_CONDITIONS,
    BoundRow,
    bound_study,
    rank_agreement,
)
from .classifier import (
    N_CLASSES,
    accuracy,
    fit_classifier,
    split_target,
    standardize_domain,
    stratified_budget,
)
from .relations import (
    RelationResult,
    class_relations,
    relation_study,
)
from .transfer import (
    BUDGETS,
    EXPLORER_ROTATIONS,
    ExplorerState,
    FamilyResult,
    LearningCurve,
    explorer_state,
    family_study,
    learning_curve,
)

__all__ = [
    "N_CLASSES",
    "BUDGETS",
    "fit_classifier",
    "accuracy",
    "standardize_domain",
    "class_relations",
    "stratified_budget",
    "split_target",
    "RelationResult",
    "relation_study",
    "FamilyResult",
    "family_study",
    "LearningCurve",
    "learning_curve",
    "EXPLORER_ROTATIONS",
    "ExplorerState",
    "explorer_state",
    "BoundRow",
    "DEFAULT_CONDITIONS",
    "bound_study",
    "rank_agreement",
]
