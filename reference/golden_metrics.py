"""Golden values for src/metrics: scikit-learn for ROC AUC / AP / F1, a plain numpy+skimage AUPRO.

Run with the system Python (Debian python3-sklearn, numpy, skimage):
    /usr/bin/python3 reference/golden_metrics.py
Writes golden/metrics/*.npy (inputs) and golden/metrics/{binary,aupro}_expected.json (expected scalars).
"""
import json
import os

import numpy as np
from scipy.ndimage import gaussian_filter
from skimage.measure import label
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "metrics")


def save(name, arr):
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(arr))


def f1_max(labels, scores):
    """np.argmax over sklearn's curve (ascending thresholds), without its final (P=1, R=0) point."""
    p, r, t = precision_recall_curve(labels, scores)
    p, r = p[:-1], r[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(p + r == 0, 0.0, 2 * p * r / (p + r))
    i = int(np.argmax(f1))
    return dict(f1=float(f1[i]), threshold=float(t[i]), precision=float(p[i]), recall=float(r[i]))


def binary_cases():
    rng = np.random.default_rng(20230601)
    cases = {}
    cases["random_small"] = (rng.normal(size=50), (rng.random(50) < 0.4))
    y = rng.random(3000) < 0.1
    cases["random_f32"] = ((rng.normal(size=3000) + 1.5 * y).astype(np.float32), y)
    y = rng.random(1000) < 0.3
    ties = np.round(rng.normal(size=1000) + y, 1)
    cases["many_ties"] = (ties, y)  # 0.1 steps are not float32 values: the generic path
    cases["many_ties_f32"] = (ties.astype(np.float32), y)
    cases["all_tied"] = (np.full(10, 0.7), np.array([0, 1, 1, 0, 0, 0, 1, 0, 0, 0]))
    y = rng.random(40) < 0.5
    cases["two_values"] = (np.where(rng.random(40) < 0.3 + 0.4 * y, 0.8, 0.2), y)
    cases["tiny_2"] = (np.array([0.3, 0.6]), np.array([0, 1]))
    cases["tiny_3"] = (np.array([0.5, 0.5, 0.1]), np.array([1, 0, 1]))
    cases["tiny_4"] = (np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    s = rng.random(30)
    cases["separated"] = (s, s > 0.6)
    cases["inverted"] = (s, s < 0.6)
    cases["signed_zeros"] = (
        np.array([-0.0, 0.0, 0.0, -1.5, 2.0, -0.0, 1e-30, -1e-30, 0.0, -2.0, 3.0, -0.0]),
        np.array([1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1]),
    )
    y = rng.random(500) < 0.2
    cases["integers"] = (rng.integers(0, 20, size=500).astype(np.float64) + 3 * y, y)

    expected = {}
    for name, (scores, labels) in cases.items():
        labels = np.asarray(labels).astype(np.uint8)
        save(f"binary_{name}_scores", scores)
        save(f"binary_{name}_labels", labels)
        expected[name] = dict(
            roc=float(roc_auc_score(labels, scores)),
            ap=float(average_precision_score(labels, scores)),
            **f1_max(labels, scores),
        )
        if len(labels) <= 1000:
            fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
            expected[name].update(roc_fpr=fpr.tolist(), roc_tpr=tpr.tolist())
    return expected


def pro_curve_ref(maps, masks, connectivity=2):
    """(FPR, PRO) threshold by threshold, the obvious way, from (0, 0)."""
    masks = masks.astype(bool)
    regions = []
    for i, m in enumerate(masks):
        lab = label(m, connectivity=connectivity)
        regions += [(i, lab == r) for r in range(1, lab.max() + 1)]
    neg = ~masks
    fprs, pros = [0.0], [0.0]
    for t in np.unique(maps)[::-1]:
        pred = maps >= t
        fprs.append((pred & neg).sum() / neg.sum())
        pros.append(np.mean([pred[i][r].sum() / r.sum() for i, r in regions]))
    return np.array(fprs), np.array(pros)


def aupro_ref(maps, masks, fpr_limit=0.3, connectivity=2):
    fprs, pros = pro_curve_ref(maps, masks, connectivity)
    k = int(np.searchsorted(fprs, fpr_limit, side="left"))  # first point with fpr >= limit
    x0, x1, y0, y1 = fprs[k - 1], fprs[k], pros[k - 1], pros[k]
    x = np.append(fprs[:k], fpr_limit)
    y = np.append(pros[:k], y0 + (y1 - y0) * (fpr_limit - x0) / (x1 - x0))
    return float(np.trapz(y, x) / fpr_limit)


def blobs(rng, n, h, w, sigma, level):
    return gaussian_filter(rng.normal(size=(n, h, w)), sigma=(0, sigma, sigma)) > level


def aupro_cases():
    rng = np.random.default_rng(7)
    cases = {}

    # Regions touching only at a corner: 8-connectivity merges them, 4-connectivity would not.
    m = np.zeros((2, 10, 12), np.uint8)
    m[0, 1:3, 1:3] = 1
    m[0, 3:5, 3:6] = 1  # diagonal neighbour of the first block
    m[0, 6, 8] = 1
    m[0, 7, 9] = 1  # single pixels, diagonal chain
    m[0, 8, 10] = 1
    m[1, 4:8, 2:5] = 1
    m[1, 0, 11] = 1  # corner pixel
    maps = np.round(rng.random(m.shape) * 0.7 + 0.4 * m, 1).astype(np.float32)
    maps[0, 1:3, 1:3] = 0.9  # first block found early, its diagonal partner not
    maps[0, 6, 8] = 0.9
    cases["diagonal"] = (maps, m, 0.3)

    m = blobs(rng, 4, 24, 20, 2.0, 0.25).astype(np.uint8)
    m[3] = 0  # one defect-free image
    maps = (gaussian_filter(rng.normal(size=m.shape), sigma=(0, 1, 1)) + 0.6 * m).astype(np.float32)
    cases["random"] = (maps, m, 0.3)  # signed values, mostly distinct
    cases["random_limit_1"] = (maps, m, 1.0)
    cases["random_limit_005"] = (maps, m, 0.05)
    cases["ties"] = (np.round(maps * 4) / 4, m, 0.3)
    cases["constant"] = (np.full(m.shape, 0.5, np.float32), m, 0.3)
    cases["two_values"] = (np.where(rng.random(m.shape) < 0.2 + 0.6 * m, 1.0, 0.0).astype(np.float32), m, 0.3)
    cases["perfect"] = ((m + 0.5 * rng.random(m.shape)).astype(np.float32), m, 0.3)

    expected = {}
    for name, (maps, masks, limit) in cases.items():
        maps = maps.astype(np.float32)
        masks = masks.astype(np.uint8)
        save(f"aupro_{name}_maps", maps)
        save(f"aupro_{name}_masks", masks)
        n, h, w = maps.shape
        e = dict(width=w, height=h, fprLimit=limit, aupro=aupro_ref(maps, masks, limit))
        e["aupro_4conn"] = aupro_ref(maps, masks, limit, connectivity=1)
        if name in ("diagonal", "random", "ties"):
            fprs, pros = pro_curve_ref(maps, masks)
            e.update(curve_fpr=fprs[fprs <= limit].tolist(), curve_pro=pros[fprs <= limit].tolist())
        expected[name] = e
    d = expected["diagonal"]
    assert abs(d["aupro"] - d["aupro_4conn"]) > 1e-3, "diagonal case does not pin 8-connectivity"
    assert abs(expected["constant"]["aupro"] - 0.15) < 1e-12
    assert abs(expected["perfect"]["aupro"] - 1.0) < 1e-12
    return expected


def components_case():
    rng = np.random.default_rng(3)
    m = blobs(rng, 1, 31, 27, 1.2, 0.15)[0]
    m[0, :] = True  # a region along the border
    m[10, 5] = True
    m[11, 6] = True  # a diagonal step
    save("components_mask", m.astype(np.uint8))
    save("components_labels", label(m, connectivity=2).astype(np.int32))


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "binary_expected.json"), "w") as f:
        json.dump(binary_cases(), f, indent=1)
    with open(os.path.join(OUT, "aupro_expected.json"), "w") as f:
        json.dump(aupro_cases(), f, indent=1)
    components_case()
    with open(os.path.join(OUT, "quantile_expected.json"), "w") as f:
        json.dump(quantile_cases(), f, indent=1)


def quantile_cases():
    """numpy.quantile (default linear method), used for thresholds from good validation scores."""
    rng = np.random.default_rng(11)
    arrays = {"one": [0.25], "two": [1.0, 3.0], "random": rng.normal(size=21).tolist(), "ties": [0.5, 0.5, 0.5, 2.0]}
    qs = [0.0, 0.1, 0.5, 0.9, 0.995, 1.0]
    return {k: dict(values=v, q=qs, expected=[float(np.quantile(np.asarray(v), q)) for q in qs]) for k, v in arrays.items()}


if __name__ == "__main__":
    main()
