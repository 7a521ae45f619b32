"""The joint-loss training routine (tllab.adapt): determinism, what each alignment term does
to the features, semi-supervised DA, evaluation helpers and the bad-input table."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import tllab
from tllab.adapt import AdaptResult, extract_features, fit_adapted, predict
from tllab.align import MMDLoss, coral_loss, mmd_loss

HAS_CUDA = torch.cuda.is_available()


def nuisance_shift(seed, n=300):
    """Labels depend on x0 + x1; the target is shifted along the label-free x2, x3."""
    g = torch.Generator().manual_seed(seed)
    xs = torch.randn(n, 4, generator=g)
    xt = torch.randn(n, 4, generator=g)
    xt[:, 2:] += 1.5
    return xs, (xs[:, 0] + xs[:, 1] > 0).long(), xt, (xt[:, 0] + xt[:, 1] > 0).long()


def mlp(seed, d_in=4, width=32, d_out=8, dtype=torch.float32):
    torch.manual_seed(seed)
    f = nn.Sequential(nn.Linear(d_in, width), nn.ReLU(), nn.Linear(width, d_out))
    return f.to(dtype), nn.Linear(d_out, 2).to(dtype)


def params(*modules):
    return torch.cat([p.detach().reshape(-1) for m in modules for p in m.parameters()])


@pytest.mark.parametrize("alignment", [None, "coral", "mmd", "dann"])
def test_deterministic_per_seed_and_global_rng_untouched(alignment, single_thread):
    xs, ys, xt, _ = nuisance_shift(0, n=100)
    runs = []
    for seed in (3, 3, 4):
        f, h = mlp(0)
        torch.manual_seed(123)
        before = torch.get_rng_state()
        res = fit_adapted(f, h, xs, ys, xt, alignment=alignment, epochs=3, seed=seed,
                          batch_size=32)
        assert torch.equal(torch.get_rng_state(), before)
        runs.append((params(f, h), res))
    assert torch.equal(runs[0][0], runs[1][0])
    assert runs[0][1].classification_loss == runs[1][1].classification_loss
    assert not torch.equal(runs[0][0], runs[2][0])
    res = runs[0][1]
    assert isinstance(res, AdaptResult)
    assert len(res.classification_loss) == 3
    assert (res.alignment_loss is None) == (alignment is None)
    assert (res.domain_accuracy is None) == (alignment != "dann")
    assert (res.discriminator is None) == (alignment != "dann")
    if alignment == "dann":
        assert all(0.0 <= a <= 1.0 for a in res.domain_accuracy)
        assert isinstance(res.discriminator, tllab.adversarial.DomainDiscriminator)
    assert not res.features.training and not res.head.training


def test_source_only_never_looks_at_the_target(single_thread):
    xs, ys, xt, _ = nuisance_shift(1, n=80)
    out = []
    for target in (xt, xt * 10 + 3):
        f, h = mlp(0)
        fit_adapted(f, h, xs, ys, target, epochs=2, batch_size=16)
        out.append(params(f, h))
    assert torch.equal(out[0], out[1])


def test_string_and_callable_alignments_agree(single_thread):
    xs, ys, xt, _ = nuisance_shift(2, n=80)
    out = []
    for alignment in ("mmd", mmd_loss, MMDLoss(), "coral", coral_loss):
        f, h = mlp(0)
        fit_adapted(f, h, xs, ys, xt, alignment=alignment, epochs=2, batch_size=16)
        out.append(params(f, h))
    assert torch.equal(out[0], out[1]) and torch.equal(out[0], out[2])
    assert torch.equal(out[3], out[4])
    assert not torch.equal(out[0], out[3])


@pytest.mark.parametrize(
    ("alignment", "measure"),
    [
        ("mmd", lambda a, b: float(tllab.mmd2(a, b))),
        ("coral", lambda a, b: float(coral_loss(a, b))),
    ],
)
def test_alignment_term_shrinks_its_discrepancy(alignment, measure, single_thread):
    """Over three seeds, features trained with the term are closer (by its own measure) than
    source-only ones from the same initialisation: the term is wired the right way round."""
    ratios = []
    for seed in range(3):
        xs, ys, xt, _ = nuisance_shift(seed)
        xt = xt * torch.tensor([1.0, 1.0, 2.0, 0.5])  # a covariance change too, for CORAL
        got = {}
        for al in (None, alignment):
            f, h = mlp(seed)
            fit_adapted(f, h, xs, ys, xt, alignment=al, weight=3.0, epochs=20, lr=3e-3,
                        seed=seed)
            got[al] = measure(extract_features(f, xs), extract_features(f, xt))
        ratios.append(got[alignment] / got[None])
    assert max(ratios) < 0.5, ratios


def test_dann_reduces_the_proxy_a_distance_between_domain_features(single_thread):
    """Seeded end-to-end check on a shift along label-free directions: over three seeds the
    proxy A-distance between source and target features after DANN is well below the one
    after source-only training from the same initialisation (measured: source-only
    1.24-1.32, DANN 0.25-0.69), and the target accuracy stays high."""
    drops = []
    for seed in range(3):
        xs, ys, xt, yt = nuisance_shift(seed, n=256)
        pad, acc = {}, {}
        for al in (None, "dann"):
            f, h = mlp(seed)
            fit_adapted(f, h, xs, ys, xt, alignment=al, epochs=60, batch_size=32, seed=seed)
            pad[al] = tllab.proxy_a_distance(extract_features(f, xs), extract_features(f, xt))
            acc[al] = float((predict(f, h, xt) == yt).float().mean())
        assert pad["dann"] < pad[None] - 0.4, (seed, pad)
        assert acc["dann"] > 0.9, (seed, acc)
        drops.append(pad[None] - pad["dann"])
    assert sum(drops) / 3 > 0.6, drops


def test_semi_supervised_labels_change_the_target_predictions(single_thread):
    """The target's labels follow a different rule; 20 labelled target points teach it."""
    g = torch.Generator().manual_seed(5)
    xs = torch.randn(300, 2, generator=g)
    ys = (xs[:, 0] > 0).long()
    xt = torch.randn(300, 2, generator=g) + torch.tensor([4.0, 0.0])
    yt = (xt[:, 1] > 0).long()
    acc = {}
    for labelled in (False, True):
        f, h = mlp(0, d_in=2)
        kw = dict(xt_labelled=xt[:20], yt_labelled=yt[:20]) if labelled else {}
        fit_adapted(f, h, xs, ys, xt, epochs=40, lr=3e-3, **kw)
        acc[labelled] = float((predict(f, h, xt[20:]) == yt[20:]).float().mean())
    assert acc[False] < 0.65  # the source rule is a coin flip on the target
    assert acc[True] > acc[False] + 0.2, acc


def test_images_and_float64_modules(single_thread):
    g = torch.Generator().manual_seed(0)
    xs = torch.randn(40, 1, 8, 8, generator=g)
    ys = (xs.mean((1, 2, 3)) > 0).long()
    xt = torch.randn(30, 1, 8, 8, generator=g) + 0.3
    torch.manual_seed(0)
    f = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()).double()  # features (n, 4, 6, 6)
    h = nn.Sequential(nn.Flatten(), nn.Linear(144, 3)).double()
    res = fit_adapted(f, h, xs, ys, xt, alignment="dann", epochs=2, batch_size=16)
    assert res.discriminator.in_features == 144
    assert next(res.discriminator.parameters()).dtype == torch.float64
    logits = predict(f, h, xt, logits=True, batch_size=7)
    assert logits.shape == (30, 3) and logits.dtype == torch.float64
    assert extract_features(f, xt).shape == (30, 144)


def test_predict_matches_a_manual_forward_and_restores_modes():
    f, h = mlp(0)
    f.train()
    x = torch.randn(50, 4)
    with torch.no_grad():
        want = h(f(x))
    h.eval()
    torch.testing.assert_close(predict(f, h, x, logits=True, batch_size=8), want)
    assert torch.equal(predict(f, h, x), want.argmax(1))
    assert f.training and not h.training  # each module back in its own mode


def test_progress_bar(capsys):
    xs, ys, xt, _ = nuisance_shift(0, n=40)
    f, h = mlp(0)
    fit_adapted(f, h, xs, ys, xt, alignment="coral", epochs=2, progress=True)
    assert "fit_adapted (coral)" in capsys.readouterr().err
    fit_adapted(f, h, xs, ys, xt, epochs=1)
    assert capsys.readouterr().err == ""


XS, YS, XT, _ = nuisance_shift(0, n=20)
F, H = mlp(0)
BAD = [
    ("features", dict(features=lambda x: x), TypeError, "features must be a torch.nn.Module"),
    ("head", dict(head="linear"), TypeError, "head must be a torch.nn.Module"),
    ("alignment name", dict(alignment="wasserstein"), ValueError, "alignment must be None"),
    ("alignment type", dict(alignment=3), TypeError, "alignment must be None"),
    ("weight", dict(weight=-1.0), ValueError, "weight must be >= 0"),
    ("weight nan", dict(weight=float("nan")), ValueError, "weight must be finite"),
    ("epochs", dict(epochs=0), ValueError, "epochs must be >= 1"),
    ("batch 1 aligning", dict(alignment="coral", batch_size=1), ValueError,
     "batch_size must be >= 2"),
    ("lr", dict(lr=0.0), ValueError, "lr must be > 0"),
    ("weight_decay", dict(weight_decay=-1e-3), ValueError, "weight_decay must be >= 0"),
    ("seed", dict(seed=-1), ValueError, "seed must be >= 0"),
    ("gamma", dict(alignment="dann", gamma=0), ValueError, "gamma must be > 0"),
    ("discriminator_lr", dict(alignment="dann", discriminator_lr=-1.0), ValueError,
     "discriminator_lr must be > 0"),
    ("xs 1-D", dict(xs=torch.randn(20)), ValueError, "xs must have shape"),
    ("xs nan", dict(xs=torch.full((20, 4), float("nan"))), ValueError, "xs must be finite"),
    ("xs empty", dict(xs=torch.empty(0, 4), ys=torch.empty(0)), ValueError,
     "xs must have at least 1"),
    ("xs string", dict(xs="data"), TypeError, "xs must be an array-like"),
    ("xt shape", dict(xt=torch.randn(20, 3)), ValueError, "same shape per sample"),
    ("xt one row aligning", dict(xt=torch.randn(1, 4), alignment="mmd"), ValueError,
     "xt must have at least 2"),
    ("xt inf", dict(xt=torch.full((5, 4), float("inf"))), ValueError, "xt must be finite"),
    ("ys length", dict(ys=YS[:5]), ValueError,
     r"ys must have one label per sample of xs: expected shape \(20,\)"),
    ("ys fractional", dict(ys=YS.float() + 0.5), ValueError, "integer class labels"),
    ("ys negative", dict(ys=YS - 1), ValueError, "non-negative class indices"),
    ("ys bool", dict(ys=YS.bool()), TypeError, "integer class labels"),
    ("ys too large", dict(ys=YS + 5), ValueError, "n_classes above the largest label"),
    ("only xt_labelled", dict(xt_labelled=XT[:3]), ValueError, "both xt_labelled"),
    ("labelled shape", dict(xt_labelled=torch.randn(3, 2), yt_labelled=[0, 1, 0]),
     ValueError, "xt_labelled must have the per-sample shape"),
    ("labelled length", dict(xt_labelled=XT[:3], yt_labelled=[0, 1]), ValueError,
     r"yt_labelled must have one label per sample of xt_labelled: expected shape \(3,\)"),
    ("discriminator without dann", dict(discriminator=nn.Linear(8, 1)), ValueError,
     "discriminator is only used"),
    ("no parameters", dict(features=nn.Identity(), head=nn.Identity()), ValueError,
     "no parameters"),
]


@pytest.mark.parametrize(("case", "kwargs", "exc", "match"), BAD, ids=[b[0] for b in BAD])
def test_bad_inputs(case, kwargs, exc, match):
    args = dict(features=F, head=H, xs=XS, ys=YS, xt=XT)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        fit_adapted(args.pop("features"), args.pop("head"), args.pop("xs"), args.pop("ys"),
                    args.pop("xt"), epochs=args.pop("epochs", 1), **args)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: predict(F, H, torch.randn(5)), ValueError, "x must have shape"),
        (lambda: predict(F, H, torch.randn(5, 4), batch_size=0), ValueError,
         "batch_size must be >= 1"),
        (lambda: predict(F, "head", torch.randn(5, 4)), TypeError, "head must be"),
        (lambda: extract_features(F, [[float("nan")] * 4]), ValueError, "x must be finite"),
    ],
)
def test_bad_inputs_of_the_evaluation_helpers(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.skipif(not HAS_CUDA, reason="CUDA parity needs a GPU (none here)")
@pytest.mark.parametrize("alignment", [None, "coral", "mmd", "dann"])
def test_cuda_parity_and_data_left_in_place(alignment):
    xs, ys, xt, _ = nuisance_shift(0, n=64)
    out = {}
    for device in ("cpu", "cuda"):
        f, h = mlp(0, dtype=torch.float64)
        f, h = f.to(device), h.to(device)
        fit_adapted(f, h, xs.double(), ys, xt.double(), alignment=alignment, epochs=2,
                    batch_size=32)
        logits = predict(f, h, xt.double(), logits=True)
        assert logits.device.type == "cpu"  # follows x, which stayed on the CPU
        out[device] = logits
    torch.testing.assert_close(out["cuda"], out["cpu"], rtol=1e-6, atol=1e-8)
