"""Golden values for src/metrics/normalQuantile.ts: scipy.stats.norm.ppf at the levels thresholds use.
Run: python3 reference/golden_threshold.py  (needs scipy; writes golden/threshold/norm_ppf.json)"""
import json
import os

from scipy.stats import norm

HERE = os.path.dirname(__file__)
OUT = os.path.join(HERE, "..", "golden", "threshold")
os.makedirs(OUT, exist_ok=True)
ps = [1e-9, 1e-4, 0.001, 0.01, 0.02425, 0.025, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999, 0.9999, 1 - 1e-9]
with open(os.path.join(OUT, "norm_ppf.json"), "w") as f:
    json.dump([{"p": p, "z": float(norm.ppf(p))} for p in ps], f, indent=1)
print("wrote", OUT)
