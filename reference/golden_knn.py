"""Goldens for the knn head (src/heads/coreset.ts, src/heads/knn.ts): PatchCore's greedy coreset and
nearest-neighbour distances, written plainly in numpy float64 (no lazy search, no expanded-square
distances: the TypeScript side is checked against the textbook algorithm).

Run with a Python that has numpy (on this project's machine /usr/bin/python3 has none; the pyenv
`python3` has it):  python3 reference/golden_knn.py
Writes golden/knn/*.npy and golden/knn/case.json.

The case: 500 features of 64 dims (clusters of different spread, like patch features of a few
kinds of surface), a fixed random projection to 16 dims passed to both sides, start row 7, 10 %
kept (50 rows), as PatchCore's GreedyCoresetSampler (sampler.py, `_compute_greedy_coreset_indices`:
distances of every row to the chosen set on the projected features, argmax, repeat), started from
one given row as anomalib's KCenterGreedy does. Then 120 query features (new draws from the same
clusters) and their Euclidean distance to the nearest coreset row in the full 64 dims.
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "knn")
N, D, P, Q = 500, 64, 16, 120
FRACTION, START = 0.1, 7


def clustered(rng, n, centres, spreads):
    k = rng.integers(0, len(centres), size=n)
    return (centres[k] + rng.standard_normal((n, centres.shape[1])) * spreads[k, None]).astype(np.float32)


def k_center_greedy(projected, count, start):
    """PatchCore's greedy coreset: keep every row's distance to the chosen set; add the farthest row."""
    chosen = [start]
    dist = np.linalg.norm(projected - projected[start], axis=1)
    margins = []
    while len(chosen) < count:
        order = np.argsort(-dist, kind="stable")
        margins.append((dist[order[0]] - dist[order[1]]) / dist[order[0]])
        i = int(order[0])
        chosen.append(i)
        dist = np.minimum(dist, np.linalg.norm(projected - projected[i], axis=1))
    return np.array(chosen, dtype=np.int64), min(margins)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20260417)
    centres = rng.standard_normal((12, D)) * 2.0
    spreads = rng.uniform(0.2, 1.5, size=12)
    features = clustered(rng, N, centres, spreads)
    queries = clustered(rng, Q, centres, spreads * 1.3)
    projection = (rng.standard_normal((D, P)) / np.sqrt(P)).astype(np.float32)

    count = int(N * FRACTION)
    projected = features.astype(np.float64) @ projection.astype(np.float64)
    indices, margin = k_center_greedy(projected, count, START)
    # float32 on the TypeScript side must not be able to flip a choice.
    assert margin > 1e-4, f"a near-tie in the greedy choice (relative margin {margin:.2e}): pick another seed"
    bank = features[indices].astype(np.float64)
    diff = queries.astype(np.float64)[:, None, :] - bank[None, :, :]
    distances = np.sqrt((diff * diff).sum(-1)).min(axis=1)

    np.save(os.path.join(OUT, "features.npy"), features)
    np.save(os.path.join(OUT, "projection.npy"), projection)
    np.save(os.path.join(OUT, "queries.npy"), queries)
    np.save(os.path.join(OUT, "expected_indices.npy"), indices)
    np.save(os.path.join(OUT, "expected_distances.npy"), distances)
    with open(os.path.join(OUT, "case.json"), "w") as f:
        json.dump({"start": START, "count": count, "fraction": FRACTION, "min_relative_margin": float(margin)}, f, indent=2)
        f.write("\n")
    print(f"{count} of {N} rows; smallest relative gap between the two farthest rows at a step: {margin:.3e}")


if __name__ == "__main__":
    main()
