/** The metrics table of a test report as Markdown (report.html shows the same rows). */
import type { Metrics } from '../evaluation/evaluate.js';

export const fmtMetric = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));

/** The table rows, in order, shared by metrics.md and report.html. */
export function metricRows(m: Metrics): [string, number | null][] {
  return [
    ['image AUROC', m.image_auroc],
    ['image AP', m.image_ap],
    ['image F1-max', m.image_f1_max],
    ['pixel AUROC', m.pixel_auroc],
    ['pixel AUPRO@0.3', m.pixel_aupro],
    ['pixel AP', m.pixel_ap],
    ['pixel F1-max', m.pixel_f1_max],
    ['image F1 at threshold', m.image_f1_at_threshold],
    ['image precision at threshold', m.image_precision_at_threshold],
    ['image recall at threshold', m.image_recall_at_threshold],
    ['good images above threshold', m.image_fpr_at_threshold],
    ['pixel F1 at threshold', m.pixel_f1_at_threshold],
  ];
}

export function metricsMarkdown(m: Metrics, info: { title: string; lines: string[] }): string {
  return [
    `# ${info.title}`,
    '',
    '| metric | value |',
    '|---|---|',
    ...metricRows(m).map(([k, v]) => `| ${k} | ${fmtMetric(v)} |`),
    '',
    `${m.n_images} test images: ${m.n_defective} defective, ${m.n_good} good.`,
    ...info.lines.map((l) => `- ${l}`),
    ...m.notes.map((n) => `- note: ${n}`),
    '',
  ].join('\n');
}
