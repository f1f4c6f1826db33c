/** The metrics table of a test report as Markdown (report.html shows the same rows). */
import type { Metrics } from '../evaluation/evaluate.js';
import { fmtMetric, metricRows } from '../evaluation/metricSpecs.js';

export { fmtMetric, metricRows } from '../evaluation/metricSpecs.js';

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
