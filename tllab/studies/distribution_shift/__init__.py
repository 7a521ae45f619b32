r"""The small simulations of the distribution-shift chapter, with their exact references.

The package is split by concept, and every name is importable from here:

* :mod:`.references`: closed forms to compare estimates with (:func:`~.references.gaussian_js`,
  :func:`~.references.gaussian_mmd2`, :func:`~.references.bayes_log_loss`), the MMD witness
  function and the bandwidth curve;
* :mod:`.estimators`: the bias of sample JS estimates against sample size, dimension and the
  KDE's bandwidth, and the spread of the MMD² estimators;
* :mod:`.testing`: the power of the permutation test, and its false alarms when the bandwidth
  is tuned on the tested data;
* :mod:`.experiments`: the digit-domain experiment and the state behind the explorer
  :func:`tllab.viz.distribution_shift.shift_explorer`.

They are public but shaped by the book's needs; the general-purpose estimators live in
:mod:`tllab.divergence`.
"""

from .estimators import (
    js_estimation_study,
    kde_bandwidth_study,
    mmd_estimator_study,
)
from .experiments import (
    DigitShiftRow,
    ShiftExplorerState,
    digit_shift_experiment,
    shift_explorer_state,
)
from .references import (
    bayes_log_loss,
    gaussian_js,
    gaussian_mmd2,
    mmd_bandwidth_curve,
    mmd_witness,
)
from .testing import (
    bandwidth_selection_size,
    mmd_power_curve,
)

__all__ = [
    "DigitShiftRow",
    "digit_shift_experiment",
    "ShiftExplorerState",
    "shift_explorer_state",
    "js_estimation_study",
    "mmd_estimator_study",
    "kde_bandwidth_study",
    "gaussian_js",
    "gaussian_mmd2",
    "bayes_log_loss",
    "mmd_witness",
    "mmd_bandwidth_curve",
    "mmd_power_curve",
    "bandwidth_selection_size",
]
