/** The metrics table of a test report as Markdown. */
import type { Metrics } from '../evaluation/evaluate.js';

const fmt = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));

export function metricsMarkdown(m: Metrics, info: { title: string; lines: string[] }): string {
  const rows: [string, number | null][] = [
    ['image AUROC', m.image_auroc],
    ['image AP', m.image_ap],
    ['image F1-max', m.image_f1_max],
    ['pixel AUROC', m.pixel_auroc],
    ['pixel AUPRO@0.3', m.pixel_aupro],
    ['pixel AP', m.pixel_ap],
    ['pixel F1-max', m.pixel_f1_max],
  ];
  return [
    `# ${info.title}`,
    '',
    '| metric | value |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${fmt(v)} |`),
    '',
    `${m.n_images} test images: ${m.n_defective} defective, ${m.n_good} good.`,
    ...info.lines.map((l) => `- ${l}`),
    ...m.notes.map((n) => `- note: ${n}`),
    '',
  ].join('\n');
}
