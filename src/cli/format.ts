import type { Metrics } from '../evaluation/evaluate.js';

const f = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));

export function formatMetrics(m: Metrics, oneLine = false): string {
  const rows: [string, string][] = [
    ['image AUROC', f(m.image_auroc)],
    ['pixel AUROC', f(m.pixel_auroc)],
    ['pixel AUPRO@0.3', f(m.pixel_aupro)],
    ['image F1-max', f(m.image_f1_max)],
    ['image AP', f(m.image_ap)],
    ['pixel AP', f(m.pixel_ap)],
    ['pixel F1-max', f(m.pixel_f1_max)],
  ];
  if (oneLine) return rows.map(([k, v]) => `${k} ${v}`).join(', ');
  const lines = rows.map(([k, v]) => `${k.padEnd(18)} ${v}`);
  lines.push(`${'images'.padEnd(18)} ${m.n_images} (${m.n_defective} defective, ${m.n_good} good)`);
  for (const n of m.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
