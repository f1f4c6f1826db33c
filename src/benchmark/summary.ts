/** Benchmark rows → mean ± sample std per category and overall, as CSV and Markdown. */
import { csvRow } from '../io/csv.js';
import { presetOf, type SimpleNetConfig } from '../model/config.js';
import type { SelectionResults } from './selection.js';

import { BENCHMARK_METRICS, type BenchmarkMetric } from '../evaluation/metricSpecs.js';

export { BENCHMARK_METRICS, type BenchmarkMetric } from '../evaluation/metricSpecs.js';

export interface BenchmarkRow {
  category: string;
  seed: number;
  /** Which head: SimpleNet's (absent: this) or the nearest-neighbour baseline (`--baseline knn`). */
  method?: 'simplenet' | 'knn';
  epochs: number;
  metrics: Record<BenchmarkMetric, number | null>;
  trainSeconds: number;
  testImagesPerSecond: number;
  /** With per-epoch evaluation: final / validation-selected / oracle (test-selected) results. */
  selection?: SelectionResults;
  /** With validation: the first epoch (and training seconds) at validation patch AUROC ≥ 0.9; null: never. */
  timeToQuality?: { epoch: number; seconds: number } | null;
}

const RULES = ['final', 'validation', 'oracle'] as const;
const methodOf = (r: BenchmarkRow) => r.method ?? 'simplenet';
const SELECTION_METRICS = ['image_auroc', 'pixel_auroc', 'pixel_aupro'] as const;

export function meanStd(values: (number | null)[]): { mean: number; std: number; n: number } | null {
  const v = values.filter((x): x is number => x !== null);
  if (v.length === 0) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std, n: v.length };
}

export function rowsCsv(rows: BenchmarkRow[]): string {
  const withSelection = rows.some((r) => r.selection);
  const selHeader = withSelection ? [...RULES.flatMap((rule) => [`${rule}_epoch`, ...SELECTION_METRICS.map((m) => `${rule}_${m}`)]), 'rank_agreement'] : [];
  const withQuality = rows.some((r) => r.timeToQuality !== undefined);
  // The method column appears with a baseline, so benchmarks without one keep their columns.
  const withMethod = rows.some((r) => methodOf(r) !== 'simplenet');
  const header = [
    'category',
    'seed',
    ...(withMethod ? ['method'] : []),
    'epochs',
    ...BENCHMARK_METRICS,
    'train_seconds',
    'test_images_per_second',
    ...(withQuality ? ['quality_epoch', 'quality_seconds'] : []),
    ...selHeader,
  ];
  const lines = rows.map((r) => {
    const sel = withSelection
      ? [
          ...RULES.flatMap((rule) => {
            const e = r.selection?.[rule];
            return [e?.epoch ?? '', ...SELECTION_METRICS.map((m) => e?.metrics[m] ?? '')];
          }),
          r.selection?.rankAgreement ?? '',
        ]
      : [];
    const quality = withQuality ? [r.timeToQuality?.epoch ?? '', r.timeToQuality?.seconds.toFixed(1) ?? ''] : [];
    return csvRow([
      r.category,
      r.seed,
      ...(withMethod ? [methodOf(r)] : []),
      r.epochs,
      ...BENCHMARK_METRICS.map((m) => r.metrics[m] ?? ''),
      r.trainSeconds.toFixed(1),
      r.testImagesPerSecond.toFixed(2),
      ...quality,
      ...sel,
    ]);
  });
  return `${[header.join(','), ...lines].join('\n')}\n`;
}

/** The three selection rules side by side, mean ± std over seeds per category. */
function selectionTable(rows: BenchmarkRow[]): string[] {
  const categories = [...new Set(rows.map((r) => r.category))];
  const cell = (rs: BenchmarkRow[], rule: (typeof RULES)[number]) =>
    SELECTION_METRICS.map((m) => pm(meanStd(rs.map((r) => r.selection?.[rule]?.metrics[m] ?? null)))).join(' / ');
  const epochs = (rs: BenchmarkRow[], rule: (typeof RULES)[number]) => rs.map((r) => r.selection?.[rule]?.epoch ?? '–').join(', ');
  const rho = (rs: BenchmarkRow[]) => rs.map((r) => (r.selection?.rankAgreement == null ? '–' : r.selection.rankAgreement.toFixed(2))).join(', ');
  return [
    '## Which weights: final epoch, best on validation, best on test (oracle)',
    '',
    'Image AUROC / pixel AUROC / AUPRO, mean ± std over seeds, from the same runs. *Validation* chooses the epoch on held-out good',
    'images and synthetic defects (no test labels). **The oracle column picks the epoch with the best TEST image AUROC, as the official',
    'code does: it is shown only to measure what honest selection costs, and never builds a model.** ρ: Spearman rank correlation,',
    'per seed, between the validation and the test criteria over the evaluated epochs (1: validation ranks epochs as the test would).',
    '',
    '| category | final | validation-selected | oracle (test-selected) | epochs chosen: validation; oracle | ρ (val vs test) |',
    '|---|---|---|---|---|---|',
    ...categories.map((c) => {
      const rs = rows.filter((r) => r.category === c && r.selection);
      return `| ${c} | ${cell(rs, 'final')} | ${cell(rs, 'validation')} | ${cell(rs, 'oracle')} | ${epochs(rs, 'validation')}; ${epochs(rs, 'oracle')} | ${rho(rs)} |`;
    }),
    '',
  ];
}

const pm = (s: ReturnType<typeof meanStd>, digits = 3) => (s ? `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}` : 'n/a');

/** The results' heading: which preset (judged from the configuration) and how many epochs (each row has the epochs it ran). */
export function benchmarkTitle(config: SimpleNetConfig): string {
  const floor = config.train.minSteps > 0 ? `, or more to reach ${config.train.minSteps} steps` : '';
  return `SimpleNet benchmark (${presetOf(config)} preset, ${config.train.epochs} epochs${floor})`;
}

export function summaryMarkdown(rows: BenchmarkRow[], title: string): string {
  const categories = [...new Set(rows.map((r) => r.category))];
  const methods = [...new Set(rows.map(methodOf))];
  const label = (base: string, method: string) => (method === 'simplenet' ? base : `${base}, **${method} baseline**`);
  const withQuality = rows.some((r) => r.timeToQuality !== undefined);
  // Per run, not averaged: a run that never got there has no time to average.
  const quality = (rs: BenchmarkRow[]) =>
    rs
      .map((r) => (r.timeToQuality ? `${r.timeToQuality.epoch} (${r.timeToQuality.seconds.toFixed(0)} s)` : r.timeToQuality === null ? 'never' : '–'))
      .join(', ');
  const line = (label: string, rs: BenchmarkRow[]) =>
    `| ${label} | ${rs.length} | ${BENCHMARK_METRICS.map((m) => pm(meanStd(rs.map((r) => r.metrics[m])))).join(' | ')} | ` +
    `${pm(meanStd(rs.map((r) => r.trainSeconds)), 0)} | ${pm(meanStd(rs.map((r) => r.testImagesPerSecond)), 2)} |` +
    (withQuality ? ` ${label.startsWith('**overall') ? '' : quality(rs)} |` : '');
  // Overall: mean over categories of each category's mean, per seed, so categories weigh equally.
  const seeds = [...new Set(rows.map((r) => r.seed))];
  const perSeed = (method: string) =>
    seeds.flatMap((seed) => {
      const rs = rows.filter((r) => r.seed === seed && methodOf(r) === method);
      if (rs.length === 0) return [];
      const metrics = Object.fromEntries(BENCHMARK_METRICS.map((m) => [m, meanStd(rs.map((r) => r.metrics[m]))?.mean ?? null])) as BenchmarkRow['metrics'];
      return [
        {
          ...rs[0],
          category: 'overall',
          metrics,
          trainSeconds: rs.reduce((a, r) => a + r.trainSeconds, 0),
          testImagesPerSecond: meanStd(rs.map((r) => r.testImagesPerSecond))?.mean ?? 0,
        },
      ];
    });
  return [
    `# ${title}`,
    '',
    'Mean ± standard deviation over seeds of the saved models (final or validation-selected weights, as configured; no test-set selection).',
    ...(methods.includes('knn')
      ? [
          '',
          'Rows marked **knn baseline**: the nearest-neighbour head (PatchCore-style: greedy coreset of the training patch features, score = distance',
          'to the nearest) on the same features, held-out images, thresholds and metrics, with the same seeds; no training. Its train s is feature',
          'extraction plus coreset selection.',
        ]
      : []),
    '',
    `| category | runs | ${BENCHMARK_METRICS.join(' | ')} | train s | test img/s |${withQuality ? ' epoch (train s) to validation patch AUROC 0.9, per seed |' : ''}`,
    `|---|---|${'---|'.repeat(BENCHMARK_METRICS.length + 2 + (withQuality ? 1 : 0))}`,
    ...categories.flatMap((c) =>
      methods.map((method) =>
        line(
          label(c, method),
          rows.filter((r) => r.category === c && methodOf(r) === method),
        ),
      ),
    ),
    ...(categories.length > 1 ? methods.map((method) => line(label('**overall** (mean of categories)', method), perSeed(method))) : []),
    '',
    ...(rows.some((r) => r.selection) ? selectionTable(rows) : []),
  ].join('\n');
}
