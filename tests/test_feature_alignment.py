"""The feature-alignment chapter's data (rotated two-moons), studies and views."""

from __future__ import annotations

import math

import pytest
import torch

import tllab
from tllab.data import rotated_moons


# ------------------------------------------------------------------------- rotated moons
def _rotate(x, degrees):
    a = math.radians(degrees)
    r = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]],
                     dtype=x.dtype)
    return x @ r.T


@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, -45.0])
def test_rotated_moons_lie_on_their_half_circles(angle):
    """Without noise each class sits on its unit half circle (centres (-1/2, -1/4) and
    (1/2, 1/4)): the source as drawn, the target once rotated back by -angle."""
    xs, ys, xt, yt = rotated_moons(400, angle=angle, noise=0.0, seed=1)
    back = _rotate(xt, -angle)
    centres = torch.tensor([[-0.5, -0.25], [0.5, 0.25]], dtype=torch.float64)
    for x, y in ((xs, ys), (back, yt)):
        radius = (x - centres[y]).norm(dim=1)
        torch.testing.assert_close(radius, torch.ones_like(radius), atol=1e-12, rtol=0)
        upper = x[y == 0, 1] >= centres[0, 1] - 1e-12   # class 0: the upper half
        lower = x[y == 1, 1] <= centres[1, 1] + 1e-12   # class 1: the lower half
        assert bool(upper.all()) and bool(lower.all())


def test_rotated_moons_counts_noise_and_seeding():
    xs, ys, xt, yt = rotated_moons(300, n_target=200, target_prior=0.9, seed=4)
    assert xs.shape == (300, 2) and xt.shape == (200, 2)
    assert int(ys.sum()) == 150 and int(yt.sum()) == 180
    assert xs.dtype == torch.float64 and ys.dtype == torch.long
    a = rotated_moons(50, seed=7, dtype=torch.float32)
    b = rotated_moons(50, seed=7, dtype=torch.float32)
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    assert a.xs.dtype == torch.float32
    # noise: distance to the class's circle has sd `noise` (radial part of 2-D noise)
    xs, ys, _, _ = rotated_moons(20_000, noise=0.05, seed=0)
    centres = torch.tensor([[-0.5, -0.25], [0.5, 0.25]], dtype=torch.float64)
    dev = (xs - centres[ys]).norm(dim=1) - 1
    assert abs(float(dev.std()) - 0.05) < 0.003


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 0}, ValueError, "n must be >= 1"),
        ({"noise": -0.1}, ValueError, "noise must be >= 0"),
        ({"target_prior": 1.5}, ValueError, "target_prior must be <= 1"),
        ({"angle": "30"}, TypeError, "angle must be a real number"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"dtype": torch.long}, TypeError, "dtype must be a floating"),
    ],
)
def test_rotated_moons_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        rotated_moons(**kwargs)


def test_rotated_moons_is_exported():
    assert tllab.data.rotated_moons is rotated_moons
    assert "rotated_moons" in tllab.data.__all__


# ------------------------------------------------------------------------- studies
from tllab.studies import feature_alignment as study  # noqa: E402
from tllab.viz import feature_alignment as view  # noqa: E402

SMALL = dict(epochs=3, batch_size=32, n_features=4, hidden=8, with_pad=False)


def small_pair(seed=0):
    return rotated_moons(60, seed=seed, dtype=torch.float32)


@pytest.mark.parametrize("method", study.METHODS)
def test_run_method_every_method(method, single_thread):
    run = study.run_method(method, small_pair(), n_components=2, **SMALL)
    assert 0.0 <= run.target_accuracy <= 1.0 and 0.0 <= run.source_accuracy <= 1.0
    assert run.seconds > 0 and math.isnan(run.pad)
    assert (run.aligner is None) == (method not in ("coral", "subspace", "tca"))
    # the reported accuracy is the trained network's, recomputed here
    xs, ys, xt, yt = small_pair()
    zt = xt
    if run.aligner is not None:
        zt = (run.aligner.transform(xt) if method == "tca"
              else run.aligner.transform(xt, domain="target")).float()
    acc = float((tllab.adapt.predict(run.features, run.head, zt) == yt).double().mean())
    assert run.target_accuracy == pytest.approx(acc)


def test_run_method_labelled_points_are_not_scored(single_thread):
    pair = small_pair(1)
    run = study.run_method("source_only", pair, n_labelled=10, **SMALL)
    acc = float((tllab.adapt.predict(run.features, run.head, pair.xt[10:]) == pair.yt[10:])
                .double().mean())
    assert run.target_accuracy == pytest.approx(acc)


def test_run_method_pad_and_determinism(single_thread):
    a = study.run_method("mmd", small_pair(), **{**SMALL, "with_pad": True})
    b = study.run_method("mmd", small_pair(), **{**SMALL, "with_pad": True})
    assert a.target_accuracy == b.target_accuracy and a.pad == b.pad
    assert -2.0 <= a.pad <= 2.0


def test_compare_methods_and_studies_shapes(single_thread):
    rows = study.compare_methods(small_pair, ["source_only", "coral"], [0, 1], **SMALL)
    assert [r.method for r in rows] == ["source_only", "coral"]
    assert rows[0].accuracy.shape == (2,) and rows[1].seconds.shape == (2,)
    ls = study.label_shift_study(["source_only"], [0.5, 0.9], [0], n=60, **SMALL)
    assert set(ls) == {("source_only", 0.5), ("source_only", 0.9)}
    semi = study.semi_supervised_study(small_pair(), ["source_only"], [0, 5], [0, 1], **SMALL)
    assert semi[("source_only", 5)].accuracy.shape == (2,)


def test_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with study.one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_decision_grids_and_shallow_maps(single_thread):
    runs = [study.run_method(m, small_pair(), n_components=2, **SMALL)
            for m in ("source_only", "subspace")]
    grids = study.decision_grids(runs, lim=1.5, size=11)
    assert grids["grid"].shape == (11, 11, 2)
    assert grids["source_only"].shape == (11, 11)
    assert ((grids["subspace"] >= 0) & (grids["subspace"] <= 1)).all()
    maps = study.shallow_maps(small_pair())
    assert maps["none"][0].shape == (60, 2) and maps["coral"][1].shape == (60, 2)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: study.run_method("pca", small_pair()), ValueError, "method must be one of"),
        (lambda: study.run_method("source_only", small_pair(), n_labelled=60), ValueError,
         "n_labelled must be below the target size 60"),
        (lambda: study.run_method("source_only", small_pair(), n_labelled=-1), ValueError,
         "n_labelled must be >= 0"),
        (lambda: study.run_method("mmd", small_pair(), weight=-1.0, **SMALL), ValueError,
         "weight must be >= 0"),
        (lambda: study.compare_methods(small_pair(), ["coral"], []), ValueError,
         "seeds must not be empty"),
        (lambda: study.label_shift_study(["source_only"], [1.5], [0]), ValueError,
         "priors must be <= 1"),
        (lambda: study.explorer_state(30.0, method="coral"), ValueError,
         "method must be one of"),
        (lambda: study.explorer_state(30.0, weight=-1.0), ValueError, "weight must be >= 0"),
        (lambda: view.comparison_table([1, 2]), TypeError, "rows must be a sequence"),
        (lambda: view.plot_explorer_state("state"), TypeError, "state must be an Explorer"),
        (lambda: view.explorer_animation([]), ValueError, "angles must not be empty"),
        (lambda: view.feature_alignment_explorer(method="tca"), ValueError,
         "method must be one of"),
    ],
)
def test_bad_inputs(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ------------------------------------------------------------------------- views
def test_views_draw(single_thread):
    import matplotlib.pyplot as plt

    pair = small_pair()
    runs = [study.run_method(m, pair, **SMALL) for m in ("source_only", "dann")]
    grids = study.decision_grids(runs, size=11)
    figs = [view.plot_domains(pair, grid=grids),
            view.plot_shallow_maps(study.shallow_maps(pair), pair),
            view.plot_decision_grids(grids, pair, ["source_only", "dann"],
                                     {"source_only": 0.5, "dann": 0.6})]
    ls = study.label_shift_study(["source_only"], [0.5, 0.9], [0, 1], n=60, **SMALL)
    figs.append(view.plot_label_shift(ls, ["source_only"], [0.5, 0.9]))
    figs.append(view.plot_semi_supervised(
        {("source_only", k): ls[("source_only", p)] for k, p in ((0, 0.5), (5, 0.9))},
        ["source_only"], [0, 5]))
    assert [len(f.axes) for f in figs] == [1, 4, 2, 1, 1]
    assert all(f.get_figwidth() <= 9 for f in figs)  # readable on a phone
    for f in figs:
        plt.close(f)


def test_explorer_and_its_fallback(single_thread):
    pytest.importorskip("ipywidgets")
    state = study.explorer_state(20.0, 0.5, "dann", epochs=2, n=60)
    assert state.prob.shape == state.grid.shape[:2] == state.prob_source_only.shape
    assert state.xs.shape == (60, 2) and 0 <= state.accuracy <= 1
    anim = view.explorer_animation([0.0], dpi=20)
    html = anim.to_jshtml()
    assert html.count("data:image/png;base64") == 1
