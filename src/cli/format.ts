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
  const at = [
    m.image_f1_at_threshold !== null ? `image F1 ${f(m.image_f1_at_threshold)}` : '',
    m.image_fpr_at_threshold !== null ? `good images above it ${f(m.image_fpr_at_threshold)}` : '',
    m.pixel_f1_at_threshold !== null ? `pixel F1 ${f(m.pixel_f1_at_threshold)}` : '',
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
