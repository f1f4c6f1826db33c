"""Golden values for src/benchmark/selection.ts spearman(): scipy.stats.spearmanr (average ranks for ties)."""
from scipy.stats import spearmanr

for a, b in [([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), ([0.9, 0.9, 0.8, 0.95, 0.7, 0.7], [3, 1, 2, 5, 0, 0.5])]:
    print(a, b, repr(spearmanr(a, b).statistic))
