/**
 * The one table of evaluation metrics: its order and labels drive the CLI summary, metrics.md,
 * report.html and the benchmark's columns, so a metric is added by computing it in evaluate.ts and
 * adding one row here.
 */
import type { Metrics } from './evaluate.js';

/**
 * The keys of Metrics that hold a metric value (not counts, notes or statistics).
 * @example const key: MetricKey = 'pixel_aupro';
 */
export type MetricKey = { [K in keyof Metrics]: Metrics[K] extends number | null ? K : never }[keyof Metrics];

/**
 * One row of the metrics table: which metric, how it is labelled, and where it is shown.
 * @example const spec: MetricSpec = { key: 'image_auroc', label: 'image AUROC', level: 'image', atThreshold: false, benchmark: true };
 */
export interface MetricSpec {
  /** The field of `Metrics` it reads. */
  key: MetricKey;
  /** How people read it (tables, the CLI summary). */
  label: string;
  /** Whether it judges image scores or anomaly-map pixels. */
  level: 'image' | 'pixel';
  /** Threshold-free ranking metrics are in the CLI summary; at-threshold ones in reports only. */
  atThreshold: boolean;
  /** A column of benchmark results. */
  benchmark: boolean;
}

/**
 * Every evaluation metric in display order, with its label and where it appears (the CLI summary,
 * metrics.md, report.html, benchmark columns).
 * @example for (const m of METRICS) console.log(m.label.padEnd(30), fmtMetric(metrics[m.key]));
 */
export const METRICS = [
  { key: 'image_auroc', label: 'image AUROC', level: 'image', atThreshold: false, benchmark: true },
  { key: 'pixel_auroc', label: 'pixel AUROC', level: 'pixel', atThreshold: false, benchmark: true },
  { key: 'pixel_aupro', label: 'pixel AUPRO@0.3', level: 'pixel', atThreshold: false, benchmark: true },
  { key: 'image_f1_max', label: 'image F1-max', level: 'image', atThreshold: false, benchmark: true },
  { key: 'image_ap', label: 'image AP', level: 'image', atThreshold: false, benchmark: false },
  { key: 'pixel_ap', label: 'pixel AP', level: 'pixel', atThreshold: false, benchmark: false },
  { key: 'pixel_f1_max', label: 'pixel F1-max', level: 'pixel', atThreshold: false, benchmark: false },
  { key: 'image_f1_at_threshold', label: 'image F1 at threshold', level: 'image', atThreshold: true, benchmark: false },
  { key: 'image_precision_at_threshold', label: 'image precision at threshold', level: 'image', atThreshold: true, benchmark: false },
  { key: 'image_recall_at_threshold', label: 'image recall at threshold', level: 'image', atThreshold: true, benchmark: true },
  { key: 'image_fpr_at_threshold', label: 'good images above threshold', level: 'image', atThreshold: true, benchmark: true },
  { key: 'pixel_f1_at_threshold', label: 'pixel F1 at threshold', level: 'pixel', atThreshold: true, benchmark: false },
] as const satisfies readonly MetricSpec[];

/**
 * One of the benchmark's metric columns, in table order: image AUROC, pixel AUROC, pixel AUPRO,
 * image F1-max.
 * @example const column: BenchmarkMetric = 'pixel_aupro';
 */
export type BenchmarkMetric = Extract<(typeof METRICS)[number], { benchmark: true }>['key'];

/**
 * The keys of the benchmark's metric columns, in table order.
 * @example const header = ['category', ...BENCHMARK_METRICS].join(',');
 */
export const BENCHMARK_METRICS = METRICS.filter((m) => m.benchmark).map((m) => m.key) as BenchmarkMetric[];

/**
 * A metric as tables print it: four decimals, or 'n/a' when it could not be computed.
 * @example fmtMetric(0.98765); // '0.9877'; fmtMetric(null) is 'n/a'
 */
export const fmtMetric = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));

/**
 * [label, value] rows in table order; `thresholdFree` leaves out the at-threshold rows.
 * @example for (const [label, v] of metricRows(metrics, { thresholdFree: true })) console.log(`${label}: ${fmtMetric(v)}`);
 */
export function metricRows(m: Metrics, opts: { thresholdFree?: boolean } = {}): [string, number | null][] {
  return METRICS.filter((s) => !(opts.thresholdFree && s.atThreshold)).map((s) => [s.label, m[s.key]]);
}

/**
 * The plain-text summary `simplenet test` prints (and one line of it for training monitors).
 * @example console.log(formatMetrics(evaluation.metrics));
 */
export function formatMetrics(m: Metrics, oneLine = false): string {
  const rows = metricRows(m, { thresholdFree: true }).map(([k, v]) => [k, fmtMetric(v)] as const);
  if (oneLine) return rows.map(([k, v]) => `${k} ${v}`).join(', ');
  const lines = rows.map(([k, v]) => `${k.padEnd(18)} ${v}`);
  lines.push(`${'images'.padEnd(18)} ${m.n_images} (${m.n_defective} defective, ${m.n_good} good)`);
  const at = [
    m.image_f1_at_threshold !== null ? `image F1 ${fmtMetric(m.image_f1_at_threshold)}` : '',
    m.image_fpr_at_threshold !== null ? `good images above it ${fmtMetric(m.image_fpr_at_threshold)}` : '',
    m.pixel_f1_at_threshold !== null ? `pixel F1 ${fmtMetric(m.pixel_f1_at_threshold)}` : '',
  ].filter(Boolean);
  lines.push(
    `${'threshold'.padEnd(18)} image ${m.image_threshold.toPrecision(6)}, pixel ${m.pixel_threshold.toPrecision(6)}${at.length ? `: ${at.join(', ')}` : ''}`,
  );
  const g = m.good_scores;
  if (g)
    lines.push(
      `${'good scores'.padEnd(18)} n ${g.n}, mean ${g.mean.toPrecision(4)} ± ${g.std.toPrecision(3)}, min ${g.min.toPrecision(4)}, max ${g.max.toPrecision(4)}`,
    );
  for (const n of m.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
