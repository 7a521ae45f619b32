"""The pretrained source CNN (stored file, loader errors, reproducible first steps), the
image-recognition studies (seeded smoke run: a few target labels beat the source model;
metrics against sklearn and by hand) and the chapter's views."""

import numpy as np
import pytest
import torch

import tllab
from tllab.finetune import evaluate, fine_tune
from tllab.models import (
    REBUILD_COMMAND,
    SOURCE_CNN_PATH,
    SmallCNN,
    load_source_cnn,
    save_source_cnn,
)
from tllab.studies import image_recognition as study
from tllab.viz import image_recognition as view


@pytest.fixture(scope="module")
def source():
    return load_source_cnn(device="cpu")


# ---------------------------------------------------------------- the stored source model
def test_stored_source_model_loads_and_matches_its_metadata(source, single_thread):
    assert SOURCE_CNN_PATH.is_file() and SOURCE_CNN_PATH.stat().st_size < 500_000
    assert isinstance(source, SmallCNN) and not source.training
    meta = source.metadata
    assert meta["recipe"] == study.SOURCE_RECIPE
    assert meta["source_val_accuracy"] > 0.98
    xt, yt = study.target_digits("test")
    # the recorded source-only score is what the stored weights give
    assert evaluate(source, xt, yt).accuracy == pytest.approx(meta["target_test_accuracy"],
                                                             abs=1e-6)
    xv, yv = study.source_digits(300, seed=SOURCE_RECIPE_VAL_SEED)
    assert evaluate(source, xv, yv).accuracy > 0.97
    raw = torch.load(SOURCE_CNN_PATH, weights_only=True)  # plain tensors and builtins only
    assert raw["format"] == "tllab-source-cnn"


SOURCE_RECIPE_VAL_SEED = study.SOURCE_RECIPE["seed"] + 1


def test_regeneration_reproduces_the_first_steps(source, single_thread):
    """The script's first steps (rendered training data, initial weights) reproduce the
    fingerprints stored with the model; a full rebuild takes minutes (data/README.md)."""
    stored = source.metadata["fingerprints"]
    fresh = study.fingerprints()
    for key in ("train_images", "train_labels", "initial_weights"):
        np.testing.assert_allclose(fresh[key], stored[key], rtol=1e-9, atol=1e-9, err_msg=key)


def test_tiny_regeneration_is_deterministic(single_thread):
    recipe = dict(n_train=120, n_val=40, width=4, epochs=2, batch_size=32, patience=None)
    a, meta_a = study.train_source_cnn(recipe)
    b, meta_b = study.train_source_cnn(recipe)
    for (k, v), w in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(v, w), k
    assert meta_a == meta_b
    c, _ = study.train_source_cnn({**recipe, "seed": 1})
    assert not torch.equal(a.blocks[0][0].weight, c.blocks[0][0].weight)
    with pytest.raises(ValueError, match="unknown entries"):
        study.train_source_cnn({"n_epochs": 3})


def test_save_and_load_round_trip(tmp_path, device):
    torch.manual_seed(0)
    model = SmallCNN(width=4, dropout=0.2, batch_norm=False)
    path = save_source_cnn(model, tmp_path / "m.pt", {"note": "x", "scores": [0.5]})
    loaded = load_source_cnn(path, device=device)
    assert loaded.config == model.config and loaded.metadata == {"note": "x", "scores": [0.5]}
    assert next(loaded.parameters()).device.type == device.type
    x = torch.rand(3, 1, 8, 8)
    torch.testing.assert_close(loaded(x.to(device)).cpu(), model.eval()(x))


def test_missing_or_corrupt_file_says_how_to_rebuild(tmp_path):
    with pytest.raises(FileNotFoundError, match="make_source_model.py"):
        load_source_cnn(tmp_path / "nope.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match=REBUILD_COMMAND):
        load_source_cnn(bad)
    good = save_source_cnn(SmallCNN(width=4), tmp_path / "good.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(ValueError, match="rebuild it"):
        load_source_cnn(truncated)
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="unknown format"):
        load_source_cnn(tmp_path / "other.pt")
    blob = torch.load(good, weights_only=True)
    blob["config"]["width"] = 8  # weights no longer fit the architecture
    torch.save(blob, tmp_path / "mismatch.pt")
    with pytest.raises(ValueError, match="weights do not fit"):
        load_source_cnn(tmp_path / "mismatch.pt")


@pytest.mark.parametrize(
    ("model", "meta", "err", "match"),
    [
        (torch.nn.Linear(2, 2), None, TypeError, "SmallCNN"),
        (SmallCNN(width=2), [1, 2], TypeError, "metadata must be a dict"),
        (SmallCNN(width=2), {"f": lambda: 0}, TypeError, "weights_only"),
        (SmallCNN(width=2), {"o": object()}, TypeError, "weights_only"),
    ],
)
def test_save_bad_input(tmp_path, model, meta, err, match):
    with pytest.raises(err, match=match):
        save_source_cnn(model, tmp_path / "m.pt", meta)
    assert not (tmp_path / "m.pt").exists()


# ------------------------------------------------------------------------- seeded smoke run
def test_a_few_target_labels_beat_the_source_model(source, single_thread):
    """Fine-tuning on 10 labelled target images per class beats the source-only model on the
    target test set by a clear margin, for every seed."""
    xtr, ytr = study.target_digits("train")
    xte, yte = study.target_digits("test")
    base = evaluate(source, xte, yte).accuracy
    for seed in (0, 1):
        idx = study.labelled_subset(ytr, 10, seed=seed)
        res = fine_tune(source, xtr[idx], ytr[idx], "full", epochs=15, batch_size=32,
                        seed=seed)
        assert evaluate(res.model, xte, yte).accuracy > base + 0.08


def test_labelled_subset(rng):
    y = torch.as_tensor(rng.integers(0, 4, 200))
    idx = study.labelled_subset(y, 5, seed=3)
    assert idx.numel() == 20 and idx.unique().numel() == 20
    assert y[idx].bincount().tolist() == [5, 5, 5, 5]
    assert torch.equal(idx, study.labelled_subset(y, 5, seed=3))
    assert not torch.equal(idx, study.labelled_subset(y, 5, seed=4))
    assert torch.equal(study.labelled_subset(y, None), torch.arange(200))
    with pytest.raises(ValueError, match="has only"):
        study.labelled_subset(torch.tensor([0, 0, 1]), 2)
    with pytest.raises(ValueError, match="per_class"):
        study.labelled_subset(y, 0)


def test_classification_report_matches_sklearn_and_hand_counts(rng):
    from sklearn.metrics import balanced_accuracy_score, f1_score

    yt = rng.integers(0, 10, 500)
    yp = np.where(rng.uniform(size=500) < 0.7, yt, rng.integers(0, 10, 500))
    r = study.classification_report(torch.as_tensor(yt), yp)
    cm = np.zeros((10, 10), int)
    for a, b in zip(yt, yp, strict=True):
        cm[a, b] += 1
    np.testing.assert_array_equal(r.confusion, cm)
    np.testing.assert_allclose(r.recall, np.diag(cm) / cm.sum(1))
    np.testing.assert_allclose(r.precision, np.diag(cm) / cm.sum(0))
    assert r.accuracy == pytest.approx(np.trace(cm) / 500)
    assert r.macro_recall == pytest.approx(balanced_accuracy_score(yt, yp))
    assert r.macro_f1 == pytest.approx(f1_score(yt, yp, average="macro"))


def test_small_studies_run_and_are_deterministic(source, single_thread):
    settings = {"full": {"strategy": "full", "lr": 1e-3},
                "lp": {"strategy": "linear_probe", "lr": 1e-2}}
    kw = dict(settings=settings, budgets=(1, 2), seeds=(0, 1), steps=5)
    a = study.finetune_study(source, **kw)
    b = study.finetune_study(source, **kw)
    assert a.accuracy.shape == (2, 2, 2) and a.n_labelled == (10, 20)
    np.testing.assert_array_equal(a.accuracy, b.accuracy)
    assert a.predictions.shape == (2, 2, 2, 898)
    xte, yte = study.target_digits("test")
    np.testing.assert_allclose(a.accuracy, (a.predictions == yte.numpy()).mean(-1))
    assert a.source_only == pytest.approx(source.metadata["target_test_accuracy"], abs=1e-6)
    ad = study.adaptation_study(source, settings={"coral": {"alignment": "coral",
                                                            "weight": 1.0}},
                                seeds=(0,), n_source=100, epochs=1)
    assert ad.labels == ("pretrained", "adabn", "coral") and ad.accuracy.shape == (3, 1)
    assert ad.accuracy[0, 0] == pytest.approx(a.source_only)
    assert all(0.0 <= v <= 1.0 for v in ad.accuracy.ravel())


def test_feature_maps_and_filters(source):
    xs, _ = study.source_digits(2)
    maps = study.feature_maps(source, xs[0, 0])
    assert [m.shape for m in maps] == [(16, 8, 8), (32, 4, 4), (64, 4, 4)]
    feats = source.features(xs[:1]).detach().numpy()[0]
    np.testing.assert_allclose(maps[2].mean((1, 2)), feats, rtol=1e-5, atol=1e-6)
    assert study.first_layer_filters(source).shape == (16, 3, 3)


def test_explorer_state_and_views(source, single_thread):
    s = study.explorer_state(source, n_frozen=3, lr=1e-2, per_class=2, steps=5)
    assert s.source_accuracy == pytest.approx(source.metadata["target_test_accuracy"],
                                              abs=1e-6)
    assert s.confusion.sum() == 898 and s.recall.shape == (10,)
    html = view.explorer_jshtml(source, [(3, 1), (3, 2)], steps=2)
    assert html.count("data:image/png;base64") == 2
    with pytest.raises(ValueError, match="n_frozen"):
        study.explorer_state(source, n_frozen=-1)
    with pytest.raises(TypeError, match="FinetuneStudy"):
        view.finetune_table("no")
    assert tllab.studies.image_recognition is study


def test_explorer_widget(source, single_thread):
    pytest.importorskip("ipywidgets")
    ui = view.image_recognition_explorer(source, n_frozen=3, lr=1e-2, per_class=1)
    assert bytes(ui.children[1].value[:4]) == b"\x89PNG"


@pytest.mark.parametrize(
    ("call", "err", "match"),
    [
        (lambda m: study.finetune_study(m, budgets=()), ValueError, "must not be empty"),
        (lambda m: study.finetune_study(m, seeds=()), ValueError, "must not be empty"),
        (lambda m: study.finetune_study(m, seeds=(0.5,)), TypeError, "seeds must be an int"),
        (lambda m: study.finetune_study(m, progress="yes"), TypeError, "progress"),
        (lambda m: study.finetune_study(m, settings={}), ValueError, "must not be empty"),
        (lambda m: study.finetune_study(m, steps=0), ValueError, "steps"),
        (lambda m: study.finetune_study(m, batch_size=0), ValueError, "batch_size"),
        (lambda m: study.finetune_study(m, budgets=(200,), seeds=(0,)), ValueError, "has only"),
        (lambda m: study.adaptation_study(m, seeds=()), ValueError, "seeds"),
        (lambda m: study.adaptation_study(m, n_source=1), ValueError, "n_source"),
        (lambda m: study.adaptation_study(m, lr=0.0, n_source=20, seeds=(0,),
                                          settings={"c": {"alignment": "coral"}}),
         ValueError, "lr"),
        (lambda m: study.classification_report([0, 1], [0, 1], n_classes=1), ValueError,
         "n_classes"),
        (lambda m: study.explorer_state(m, lr=0.0), ValueError, "lr"),
        (lambda m: study.explorer_state(m, per_class=0), ValueError, "per_class"),
        (lambda m: study.explorer_state(m, steps=0), ValueError, "steps"),
        (lambda m: study.fingerprints(n_images=0), ValueError, "n_images"),
        (lambda m: view.plot_domains(torch.rand(10, 8, 8), torch.arange(10), torch.rand(10, 8, 8),
                                     torch.arange(10), per_class=0), ValueError, "per_class"),
        (lambda m: view.plot_layers(np.zeros((2, 3, 3)), [], [], n_maps=0), ValueError, "n_maps"),
        (lambda m: view.explorer_jshtml(m, []), ValueError, "frames"),
        (lambda m: view.explorer_jshtml(m, [(-1, 1)]), ValueError, "n_frozen"),
        (lambda m: view.plot_finetune_study("x"), TypeError, "FinetuneStudy"),
        (lambda m: view.adaptation_table("x"), TypeError, "AdaptStudy"),
    ],
)
def test_studies_and_views_bad_input(source, call, err, match):
    with pytest.raises(err, match=match):
        call(source)
