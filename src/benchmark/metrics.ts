/** The test metrics a benchmark reports per run (the columns of results.csv and results.md). */
export const BENCHMARK_METRICS = ['image_auroc', 'pixel_auroc', 'pixel_aupro', 'image_f1_max'] as const;
export type BenchmarkMetric = (typeof BENCHMARK_METRICS)[number];
