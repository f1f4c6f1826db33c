/**
 * report.html: one self-contained page (inline SVG charts, images embedded as data URIs) with the
 * metrics table, ROC and PRO curves, the score histogram with the threshold, and the gallery worst
 * first. Full-size gallery PNGs sit beside it in images/ and are linked.
 */
import type { Curves, ImagePrediction, Metrics } from '../evaluation/evaluate.js';
import type { EpochLog } from '../model/modelDir.js';
import { fmtMetric, metricRows } from '../evaluation/metricSpecs.js';
import { curveChart, escapeHtml, scoreHistogram } from './svg.js';

export interface GalleryEntry {
  prediction: ImagePrediction;
  /** Path of the full-size PNG relative to the report folder. */
  image: string;
  thumbnail: Buffer;
}

export interface HtmlReport {
  title: string;
  lines: string[];
  /** Set when thresholds were chosen on the test split: shown as a warning banner. */
  oracleNote?: string;
  metrics: Metrics;
  curves?: Curves;
  predictions: ImagePrediction[];
  /** Worst first; only these are embedded. */
  gallery: GalleryEntry[];
  /** How many gallery pictures exist in images/ (more than are embedded when capped). */
  galleryTotal: number;
  /** The model's training log (loss, p_true, p_fake, validation AUROC per epoch). */
  trainingLog?: EpochLog[];
}

function trainingCharts(log: EpochLog[]): string[] {
  if (log.length === 0) return [];
  const x = log.map((e) => e.epoch);
  const losses = log.map((e) => e.loss).filter(Number.isFinite);
  const lo = Math.min(...losses);
  const hi = Math.max(...losses);
  const charts = [
    curveChart({
      title: 'Training loss',
      xLabel: 'epoch',
      yLabel: 'mean loss',
      xMin: 1,
      xMax: Math.max(2, x[x.length - 1]),
      yMin: Math.floor(lo * 20) / 20,
      yMax: Math.ceil(hi * 20) / 20 + (hi === lo ? 0.05 : 0),
      series: [{ name: 'loss', x, y: log.map((e) => e.loss), colour: '#444' }],
    }),
    curveChart({
      title: 'Training p_true / p_fake',
      xLabel: 'epoch',
      yLabel: 'share',
      xMin: 1,
      xMax: Math.max(2, x[x.length - 1]),
      series: [
        { name: 'p_true', x, y: log.map((e) => e.pTrue), colour: '#1f60c0' },
        { name: 'p_fake', x, y: log.map((e) => e.pFake), colour: '#c04010' },
      ],
    }),
  ];
  const validated = log.filter((e) => e.valImageAuroc !== undefined);
  if (validated.length > 0) {
    const vx = validated.map((e) => e.epoch);
    charts.push(
      curveChart({
        title: 'Validation (synthetic defects)',
        xLabel: 'epoch',
        yLabel: 'AUROC / AUPRO',
        xMin: 1,
        xMax: Math.max(2, x[x.length - 1]),
        series: [
          { name: 'image AUROC', x: vx, y: validated.map((e) => e.valImageAuroc ?? Number.NaN), colour: '#208040' },
          { name: 'patch AUROC', x: vx, y: validated.map((e) => e.valPatchAuroc ?? Number.NaN), colour: '#8040a0' },
          // Logs from before val_patch_aupro have none to draw.
          ...(validated.some((e) => e.valPatchAupro !== undefined)
            ? [{ name: 'patch AUPRO', x: vx, y: validated.map((e) => e.valPatchAupro ?? Number.NaN), colour: '#c06020' }]
            : []),
        ],
      }),
    );
  }
  return charts;
}

const STYLE = `body{font-family:sans-serif;margin:24px;max-width:1400px;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 10px;text-align:left}
td.v{text-align:right;font-variant-numeric:tabular-nums}.charts{display:flex;flex-wrap:wrap;gap:16px}
.oracle{background:#fff3cd;border:1px solid #e0b400;padding:8px 12px;font-weight:bold}
figure{display:inline-block;margin:6px;font-size:12px;vertical-align:top}figcaption{max-width:440px;word-break:break-all}
.wrong{color:#b00020;font-weight:bold}`;

export function reportHtml(r: HtmlReport): string {
  const m = r.metrics;
  const rows = metricRows(m)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td class="v">${fmtMetric(v)}</td></tr>`)
    .join('');
  const charts: string[] = [];
  if (r.curves?.imageRoc)
    charts.push(
      curveChart({
        title: 'Image ROC',
        xLabel: 'false-positive rate',
        yLabel: 'true-positive rate',
        xMax: 1,
        diagonal: true,
        series: [{ name: `AUROC ${fmtMetric(m.image_auroc)}`, x: r.curves.imageRoc.fpr, y: r.curves.imageRoc.tpr, colour: '#1f60c0' }],
      }),
    );
  if (r.curves?.pixelRoc)
    charts.push(
      curveChart({
        title: 'Pixel ROC',
        xLabel: 'false-positive rate',
        yLabel: 'true-positive rate',
        xMax: 1,
        diagonal: true,
        series: [{ name: `AUROC ${fmtMetric(m.pixel_auroc)}`, x: r.curves.pixelRoc.fpr, y: r.curves.pixelRoc.tpr, colour: '#c04010' }],
      }),
    );
  if (r.curves?.pro)
    charts.push(
      curveChart({
        title: 'PRO (to FPR 0.3)',
        xLabel: 'false-positive rate',
        yLabel: 'per-region overlap',
        xMax: 0.3,
        series: [{ name: `AUPRO ${fmtMetric(m.pixel_aupro)}`, x: r.curves.pro.fpr, y: r.curves.pro.pro, colour: '#208040' }],
      }),
    );
  charts.push(
    scoreHistogram({
      good: r.predictions.filter((p) => p.label === 0).map((p) => p.score),
      defective: r.predictions.filter((p) => p.label === 1).map((p) => p.score),
      threshold: m.image_threshold,
      thresholdLabel: 'threshold',
    }),
  );
  const figures = r.gallery.map((g) => {
    const p = g.prediction;
    const wrong = p.predLabel !== p.label;
    const caption =
      `${escapeHtml(p.path)}<br>${p.label ? `defective (${escapeHtml(p.defectType)})` : 'good'} · score ${p.score.toPrecision(5)} · ` +
      `normalised ${p.scoreNormalized.toFixed(3)} · <span class="${wrong ? 'wrong' : ''}">predicted ${p.predLabel ? 'anomalous' : 'normal'}</span>`;
    return `<figure><a href="${escapeHtml(g.image)}"><img alt="${escapeHtml(p.path)}" src="data:image/jpeg;base64,${g.thumbnail.toString('base64')}"></a><figcaption>${caption}</figcaption></figure>`;
  });
  const capped = r.galleryTotal > r.gallery.length ? ` (the ${r.gallery.length} worst of ${r.galleryTotal}; all are in images/)` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(r.title)}</h1>
${r.oracleNote ? `<p class="oracle">${escapeHtml(r.oracleNote)}</p>` : ''}
<ul>${r.lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}${m.notes.map((n) => `<li>note: ${escapeHtml(n)}</li>`).join('')}</ul>
<h2>Metrics</h2>
<table id="metrics"><tbody>${rows}<tr><th>test images</th><td class="v">${m.n_images} (${m.n_defective} defective, ${m.n_good} good)</td></tr></tbody></table>
<h2>Curves and scores</h2>
<div class="charts">${charts.join('\n')}</div>
${r.trainingLog?.length ? `<h2>Training</h2>\n<div class="charts">${trainingCharts(r.trainingLog).join('\n')}</div>` : ''}
<h2>Gallery, worst first${capped}</h2>
<p>Each picture: the input as the model sees it (fitted to its square frame by image.fit); the anomaly map over it on one colour scale for all images (0.5 = the pixel threshold); the ground-truth contour (green) and the predicted contour (red). Worst first: defective images by how far their score falls below the threshold, good images by how far it rises above it.</p>
<div id="gallery">${figures.join('\n')}</div>
</body></html>
`;
}
