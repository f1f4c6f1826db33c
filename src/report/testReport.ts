/**
 * `simplenet test --report <dir>`: metrics.json, metrics.md, predictions.csv, every anomaly map as
 * float32 .npy in the crop frame (maps/<defect type>/<image stem>.npy), a gallery picture per image
 * (images/<defect type>/<image stem>.png) and report.html. The folder is written under a temporary
 * name and renamed when complete, so a failed run leaves no partial report.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, parse } from 'node:path';
import type { Sample } from '../datasets/dataset.js';
import type { Evaluation, ImagePrediction } from '../evaluation/evaluate.js';
import { metricsJsonText } from '../evaluation/metricsJson.js';
import { REPORT_CSV_HEADER } from '../io/artefacts.js';
import { writeDirAtomic } from '../io/atomic.js';
import { encodeNpy } from '../io/npy.js';
import type { EpochLog } from '../model/modelDir.js';
import type { ImageResult } from '../scoring/scoreImages.js';
import { csvRow } from '../io/csv.js';
import { encodeGallery } from './gallery.js';
import { type GalleryEntry, reportHtml } from './html.js';
import { metricsMarkdown } from './markdown.js';

export const PREDICTIONS_HEADER = REPORT_CSV_HEADER.split(',');

export type OnImage = (sample: Sample, result: ImageResult, mask?: Uint8Array) => Promise<void>;

export interface TestReportInfo {
  summary: Record<string, unknown>;
  title: string;
  lines: string[];
  /** The raw map value the predicted contours are drawn at. */
  pixelThreshold: number;
  /** Set when thresholds come from the test split; shown as a warning in every file. */
  oracleNote?: string;
  /** Gallery pictures embedded in report.html, worst first (all are written to images/). */
  galleryLimit?: number;
  /** The model's training log, plotted in report.html. */
  trainingLog?: EpochLog[];
}

/** How wrong a prediction is: positive when misclassified, larger = further on the wrong side. */
export function wrongness(p: ImagePrediction, threshold: number): number {
  return p.label === 1 ? threshold - p.score : p.score - threshold;
}

export async function writeTestReport(dir: string, run: (onImage: OnImage) => Promise<Evaluation>, info: TestReportInfo): Promise<Evaluation> {
  return writeDirAtomic(dir, 'report', async (tmp) => {
    const used = new Set<string>();
    const pictures = new Map<string, { image: string; thumbnail: Buffer }>();
    const onImage: OnImage = async (sample, r, mask) => {
      const folder = sample.defectType.replace(/[^\w.-]/g, '_');
      let name = parse(sample.path).name;
      for (let k = 2; used.has(join(folder, name)); k++) name = `${parse(sample.path).name}_${k}`;
      used.add(join(folder, name));
      await mkdir(join(tmp, 'maps', folder), { recursive: true });
      await mkdir(join(tmp, 'images', folder), { recursive: true });
      const size = r.mapSize;
      const map = r.map;
      await writeFile(join(tmp, 'maps', folder, `${name}.npy`), encodeNpy({ dtype: 'float32', dims: [size, size], data: map }));
      if (!r.crop) throw new Error('writeTestReport: the scorer must be built with image crops');
      const { png, thumbnail } = await encodeGallery({
        crop: r.crop,
        map,
        mapNormalized: r.mapNormalized,
        pixelThreshold: info.pixelThreshold,
        mask,
        size,
      });
      const image = `images/${folder}/${name}.png`;
      await writeFile(join(tmp, image), png);
      pictures.set(sample.path, { image, thumbnail });
    };
    const evaluation = await run(onImage);
    const { metrics, predictions } = evaluation;
    const lines = info.oracleNote ? [info.oracleNote, ...info.lines] : info.lines;
    const rows = predictions.map((p) => csvRow([p.path, p.label, p.defectType, p.score, p.scoreNormalized, p.predLabel]));
    await writeFile(join(tmp, 'predictions.csv'), `${[PREDICTIONS_HEADER.join(','), ...rows].join('\n')}\n`);
    await writeFile(join(tmp, 'metrics.json'), metricsJsonText(metrics, info.summary));
    await writeFile(join(tmp, 'metrics.md'), metricsMarkdown(metrics, { title: info.title, lines }));
    const worstFirst = [...predictions].sort((a, b) => wrongness(b, metrics.image_threshold) - wrongness(a, metrics.image_threshold));
    const gallery: GalleryEntry[] = [];
    for (const p of worstFirst.slice(0, info.galleryLimit ?? 200)) {
      const pic = pictures.get(p.path);
      if (pic) gallery.push({ prediction: p, ...pic });
    }
    const html = reportHtml({
      title: info.title,
      lines: info.lines,
      oracleNote: info.oracleNote,
      metrics,
      curves: evaluation.curves,
      predictions,
      gallery,
      galleryTotal: pictures.size,
      trainingLog: info.trainingLog,
    });
    await writeFile(join(tmp, 'report.html'), html);
    return evaluation;
  });
}
