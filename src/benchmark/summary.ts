/** Benchmark rows → mean ± sample std per category and overall, as CSV and Markdown. */
import { csvRow } from '../report/csv.js';

export const BENCHMARK_METRICS = ['image_auroc', 'pixel_auroc', 'pixel_aupro', 'image_f1_max'] as const;
export type BenchmarkMetric = (typeof BENCHMARK_METRICS)[number];

export interface BenchmarkRow {
  category: string;
  seed: number;
  epochs: number;
  metrics: Record<BenchmarkMetric, number | null>;
  trainSeconds: number;
  testImagesPerSecond: number;
}

export function meanStd(values: (number | null)[]): { mean: number; std: number; n: number } | null {
  const v = values.filter((x): x is number => x !== null);
  if (v.length === 0) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std, n: v.length };
}

export function rowsCsv(rows: BenchmarkRow[]): string {
  const header = ['category', 'seed', 'epochs', ...BENCHMARK_METRICS, 'train_seconds', 'test_images_per_second'];
  const lines = rows.map((r) =>
    csvRow([r.category, r.seed, r.epochs, ...BENCHMARK_METRICS.map((m) => r.metrics[m] ?? ''), r.trainSeconds.toFixed(1), r.testImagesPerSecond.toFixed(2)]),
  );
  return `${[header.join(','), ...lines].join('\n')}\n`;
}

const pm = (s: ReturnType<typeof meanStd>, digits = 3) => (s ? `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}` : 'n/a');

export function summaryMarkdown(rows: BenchmarkRow[], title: string): string {
  const categories = [...new Set(rows.map((r) => r.category))];
  const line = (label: string, rs: BenchmarkRow[]) =>
    `| ${label} | ${rs.length} | ${BENCHMARK_METRICS.map((m) => pm(meanStd(rs.map((r) => r.metrics[m])))).join(' | ')} | ` +
    `${pm(meanStd(rs.map((r) => r.trainSeconds)), 0)} | ${pm(meanStd(rs.map((r) => r.testImagesPerSecond)), 2)} |`;
  // Overall: mean over categories of each category's mean, per seed, so categories weigh equally.
  const seeds = [...new Set(rows.map((r) => r.seed))];
  const perSeed = seeds.map((seed) => {
    const rs = rows.filter((r) => r.seed === seed);
    const metrics = Object.fromEntries(
      BENCHMARK_METRICS.map((m) => [m, meanStd(rs.map((r) => r.metrics[m]))?.mean ?? null]),
    ) as BenchmarkRow['metrics'];
    return { ...rs[0], category: 'overall', metrics, trainSeconds: rs.reduce((a, r) => a + r.trainSeconds, 0), testImagesPerSecond: meanStd(rs.map((r) => r.testImagesPerSecond))?.mean ?? 0 };
  });
  return [
    `# ${title}`,
    '',
    'Mean ± standard deviation over seeds (final weights; no test-set selection).',
    '',
    `| category | runs | ${BENCHMARK_METRICS.join(' | ')} | train s | test img/s |`,
    `|---|---|${'---|'.repeat(BENCHMARK_METRICS.length + 2)}`,
    ...categories.map((c) => line(c, rows.filter((r) => r.category === c))),
    ...(categories.length > 1 ? [line('**overall** (mean of categories)', perSeed)] : []),
    '',
  ].join('\n');
}
