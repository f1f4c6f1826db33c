/**
 * `simplenet test --report <dir>`: metrics.json, metrics.md, predictions.csv and every anomaly map
 * as float32 .npy in the crop frame (maps/<defect type>/<image stem>.npy). The folder is written
 * under a temporary name and renamed when complete, so a failed run leaves no partial report.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, parse } from 'node:path';
import type { Sample } from '../datasets/dataset.js';
import type { Evaluation } from '../evaluation/evaluate.js';
import { writeDirAtomic } from '../io/atomic.js';
import { encodeNpy } from '../io/npy.js';
import type { ImageScores } from '../scoring/scorer.js';
import { csvRow } from './csv.js';
import { metricsMarkdown } from './markdown.js';

export const PREDICTIONS_HEADER = ['path', 'label', 'defect_type', 'score', 'score_normalized', 'pred_label'];

export async function writeTestReport(
  dir: string,
  run: (onImage: (sample: Sample, result: ImageScores) => Promise<void>) => Promise<Evaluation>,
  info: { summary: Record<string, unknown>; title: string; lines: string[] },
): Promise<Evaluation> {
  return writeDirAtomic(dir, async (tmp) => {
    const used = new Set<string>();
    const onImage = async (sample: Sample, r: ImageScores) => {
      const folder = join('maps', sample.defectType.replace(/[^\w.-]/g, '_'));
      let name = parse(sample.path).name;
      for (let k = 2; used.has(join(folder, name)); k++) name = `${parse(sample.path).name}_${k}`;
      used.add(join(folder, name));
      await mkdir(join(tmp, folder), { recursive: true });
      const size = r.mapSize;
      const map = r.maps.subarray(0, size * size);
      await writeFile(join(tmp, folder, `${name}.npy`), encodeNpy({ dtype: 'float32', dims: [size, size], data: map }));
    };
    const evaluation = await run(onImage);
    const rows = evaluation.predictions.map((p) =>
      csvRow([p.path, p.label, p.defectType, p.score, p.scoreNormalized, p.predLabel]),
    );
    await writeFile(join(tmp, 'predictions.csv'), `${[PREDICTIONS_HEADER.join(','), ...rows].join('\n')}\n`);
    await writeFile(join(tmp, 'metrics.json'), `${JSON.stringify({ ...evaluation.metrics, ...info.summary }, null, 2)}\n`);
    await writeFile(join(tmp, 'metrics.md'), metricsMarkdown(evaluation.metrics, info));
    return evaluation;
  });
}
