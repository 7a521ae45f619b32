r"""The experiments of the selective-transfer chapter; each returns plain numbers and arrays.

One module per concept (``gates``, ``selection``, ``sharing``); everything is
re-exported here, so ``from tllab.studies import selective_transfer as study`` gives it all.

* ``gates``: :func:`~tllab.studies.selective_transfer.gates.gate_auc` scores learned gates
  against the known transferable features;
  :func:`~tllab.studies.selective_transfer.gates.gate_study` (gates against the truth, sigmoid
  and softmax, with and without the shift penalty, over seeds),
  :func:`~tllab.studies.selective_transfer.gates.gate_level_sweep` (how the gates' level
  depends on the number of shifted features) and
  :func:`~tllab.studies.selective_transfer.gates.explorer_state` (one state of the chapter's
  explorer, drawn by :mod:`tllab.viz`);
* ``selection``: :func:`~tllab.studies.selective_transfer.selection.selection_study`,
  selecting source samples against using them all;
* ``sharing``: :func:`~tllab.studies.selective_transfer.sharing.multitask_study` and
  :func:`~tllab.studies.selective_transfer.sharing.metric_study`, the short sections on
  multi-task and metric learning.
"""

from ._common import TEST_SEED_OFFSET
from .gates import (
    ExplorerState,
    GateStudy,
    GateSweep,
    effective_features,
    explorer_state,
    gate_auc,
    gate_level_sweep,
    gate_study,
)
from .selection import SelectionStudy, selection_study
from .sharing import MetricStudy, MultiTaskStudy, metric_study, multitask_study

__all__ = [
    "TEST_SEED_OFFSET",
    "gate_auc",
    "effective_features",
    "GateStudy",
    "gate_study",
    "GateSweep",
    "gate_level_sweep",
    "SelectionStudy",
    "selection_study",
    "MultiTaskStudy",
    "multitask_study",
    "MetricStudy",
    "metric_study",
    "ExplorerState",
    "explorer_state",
]
