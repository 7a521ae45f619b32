"""Tests of the selective-transfer chapter's studies and views (tllab.studies / tllab.viz)."""

import importlib.util

import matplotlib
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tllab.studies import selective_transfer as study
from tllab.viz import selective_transfer as view

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def test_gate_auc_matches_sklearn_including_ties(rng):
    for _ in range(20):
        d = int(rng.integers(3, 12))
        truth = np.zeros(d, dtype=bool)
        truth[rng.choice(d, size=int(rng.integers(1, d)), replace=False)] = True
        gates = rng.integers(0, 4, size=d) / 3.0  # ties on purpose
        assert study.gate_auc(gates, truth) == pytest.approx(roc_auc_score(truth, gates),
                                                             abs=1e-12)


def test_effective_features_is_the_ess_of_the_gates(rng):
    g = rng.uniform(size=9)
    assert study.effective_features(g) == pytest.approx(g.sum() ** 2 / (g**2).sum())
    assert study.effective_features(np.full(7, 0.3)) == pytest.approx(7.0)
    assert study.effective_features([0.0, 5.0, 0.0]) == pytest.approx(1.0)


def test_gate_study_separates_the_features_and_beats_the_plain_model(single_thread):
    res = study.gate_study([0, 1], kinds=["sigmoid"], penalties=[0.0, 1.0], n=300,
                           n_test=1000, progress=False)
    assert res.gates["sigmoid", 1.0].shape == (2, 10)
    assert np.all(res.auc["sigmoid", 1.0] == 1.0)
    assert res.target_accuracy["sigmoid", 1.0].mean() > res.plain_accuracy.mean() + 0.2
    assert res.target_accuracy["sigmoid", 0.0].mean() < 0.6
    assert abs(res.target_accuracy["sigmoid", 1.0].mean() - res.oracle_accuracy.mean()) < 0.05
    fig = view.plot_gates_vs_truth(res)
    assert len(fig.axes) == 2
    assert len(view.gate_table(res).rows) == 4


def test_softmax_gates_share_the_budget(single_thread):
    sw = study.gate_level_sweep([0, 6], [0], n=200, progress=False)
    np.testing.assert_allclose(sw.kept_mean["softmax"][:, 0], [1.0, 2.5], rtol=0.1)
    assert np.all(np.abs(sw.kept_mean["sigmoid"][:, 0] - 0.95) < 0.1)
    assert np.isnan(sw.dropped_mean["sigmoid"][0, 0])
    assert len(view.plot_gate_levels(sw).axes) == 2


def test_selection_study_shows_less_is_more(single_thread):
    res = study.selection_study([0, 1, 2], fractions=[0.4, 1.0], progress=False)
    acc = res.accuracy
    assert acc["selected_ratio"].mean() > acc["all"].mean() + 0.03
    np.testing.assert_allclose(res.curve[:, 1], acc["all"])  # keeping everything = all
    np.testing.assert_allclose(res.curve[:, 0], acc["selected_ratio"])  # fraction 0.4 twice
    assert res.precision["ratio"].mean() > 0.9
    assert res.first_mask.sum() == 120
    assert len(view.plot_selection(res).axes) == 2
    assert len(view.selection_table(res).rows) == 5


def test_multitask_and_metric_studies_and_their_views(single_thread):
    mt = study.multitask_study([20], [0, 1], n_test=500, progress=False)
    assert mt.single.shape == mt.multi.shape == (1, 2)
    assert view.multitask_table(mt).rows[0][0] == "20"
    me = study.metric_study([0], progress=False, n_steps=20)
    assert set(me.accuracy) == {"pixels", "pixels_plus_target", "embedding_source",
                                "embedding_cross"}
    ps, pq = me.embeddings["pixels"]
    assert ps.shape == (899, 2) and pq.shape == (898 - 50, 2)
    assert len(view.plot_metric_embeddings(me).axes) == 2
    assert len(view.metric_table(me).rows) == 4


def test_explorer_state_and_its_drawing(single_thread):
    st = study.explorer_state(n_shifted=0, n=150, n_test=300)
    assert np.isnan(st.auc) and st.transferable.all()
    st = study.explorer_state(n_shifted=10, n=150, n_test=300)
    assert np.isnan(st.oracle_accuracy)
    assert len(view.plot_explorer_state(st).axes) == 3
    html = view.explorer_jshtml([0.5, 1.0], n=150, n_test=300)
    assert html.count("data:image/png;base64") == 2


@pytest.mark.skipif(importlib.util.find_spec("ipywidgets") is None, reason="needs ipywidgets")
def test_live_explorer_draws_a_png(single_thread):
    ui = view.selective_explorer()
    assert bytes(ui.children[1].value[:4]) == b"\x89PNG"


def test_pm_formats_mean_and_sd():
    assert view.pm([1.0, 3.0], 2) == "2.00 ± 1.00"


BAD = [
    (study.gate_auc, ([0.1, 0.2], [True, True]), {}, ValueError, "transferable"),
    (study.gate_auc, ([0.1, 0.2], [True]), {}, ValueError, "same length"),
    (study.gate_auc, ([0.1, np.nan], [True, False]), {}, ValueError, "gates"),
    (study.effective_features, ([0.0, 0.0],), {}, ValueError, "gates"),
    (study.effective_features, ([-1.0, 2.0],), {}, ValueError, "gates"),
    (study.gate_study, ([],), {}, ValueError, "seeds"),
    (study.gate_study, ([0],), {"kinds": ["relu"]}, ValueError, "kinds"),
    (study.gate_study, ([0],), {"progress": "yes"}, TypeError, "progress"),
    (study.gate_study, ([0],), {"penalties": [-1.0]}, ValueError, "penalties"),
    (study.gate_level_sweep, ([10],), {}, ValueError, "n_shifted"),
    (study.gate_level_sweep, ([],), {}, ValueError, "n_shifted"),
    (study.selection_study, ([0],), {"fraction": 0.0}, ValueError, "fraction"),
    (study.selection_study, ([0],), {"fractions": [2.0]}, ValueError, "fractions"),
    (study.multitask_study, ([],), {}, ValueError, "n_main"),
    (study.multitask_study, ([0],), {}, ValueError, "n_main"),
    (study.metric_study, ([0],), {"per_class": 0}, ValueError, "per_class"),
    (study.metric_study, ([0],), {"cause": "fog"}, ValueError, "cause"),
    (study.explorer_state, (), {"kind": "max"}, ValueError, "kind"),
    (study.explorer_state, (), {"n_shifted": 11}, ValueError, "n_shifted"),
    (view.gate_table, ("x",), {}, TypeError, "study"),
    (view.plot_selection, (None,), {}, TypeError, "study"),
    (view.plot_explorer_state, ({},), {}, TypeError, "state"),
    (view.explorer_jshtml, ([],), {}, ValueError, "shifts"),
]


@pytest.mark.parametrize("fn,args,kwargs,err,match", BAD,
                         ids=[f"{b[0].__name__}-{i}" for i, b in enumerate(BAD)])
def test_bad_inputs(fn, args, kwargs, err, match):
    with pytest.raises(err, match=match):
        fn(*args, **kwargs)
