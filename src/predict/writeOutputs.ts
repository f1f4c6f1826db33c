/**
 * predict's --out folder: per image `<name>.png`, the JET heatmap over the image as the model
 * sees it (the graph's image_crop, fitted by image.fit) on one colour scale for all images (the model's normalisation, 0.5 = threshold), and
 * `<name>.npy`, the raw anomaly map (float32 [crop, crop]); then `predictions.csv` with one row per
 * scored image (which also marks the folder as ours, io/artefacts.ts). Names follow the inputs'
 * relative paths; a name already used in this run gets a numeric suffix. The folder is built under
 * a temporary name and put in place when the run ends (io/atomic.ts), so a disk that fills up or
 * an interrupted run leaves no truncated file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { PREDICT_CSV_HEADER } from '../io/artefacts.js';
import { encodeNpy } from '../io/npy.js';
import { csvRow } from '../io/csv.js';
import { overlayPng } from '../images/overlayPng.js';
import type { InputImage } from './inputs.js';

export class OutputNamer {
  private readonly used = new Set<string>();

  constructor(private readonly dir: string) {}

  /** The output path stem for an input's relative path (extension dropped, made unique). */
  stem(relativePath: string): string {
    const base = relativePath.replace(/\.[^./]*$/, '').replace(/^(\.\.\/)+/, '');
    let stem = base;
    for (let k = 2; this.used.has(stem); k++) stem = `${base}_${k}`;
    this.used.add(stem);
    return join(this.dir, stem);
  }
}

/** What a scored image needs to be written (the Detector's ScoreResult has these fields). */
export interface ScoredImage {
  score: number;
  scoreNormalized: number;
  label: 0 | 1;
  anomalyMap: Float32Array;
  anomalyMapNormalized: Float32Array;
  width: number;
  height: number;
  crop?: Uint8Array;
}

export async function writePredictionFiles(p: ScoredImage, stem: string): Promise<{ overlay: string; map: string }> {
  if (!p.crop) throw new Error('writePredictionFiles: the scorer was built without image crops');
  await mkdir(dirname(stem), { recursive: true });
  const overlay = `${stem}.png`;
  const map = `${stem}.npy`;
  await writeFile(overlay, await overlayPng(p.crop, p.anomalyMapNormalized, p.width, p.height));
  await writeFile(map, encodeNpy({ dtype: 'float32', dims: [p.height, p.width], data: p.anomalyMap }));
  return { overlay, map };
}

/** Collects the rows of predictions.csv while the files are written into the temporary folder. */
export class PredictionFolder {
  private readonly namer: OutputNamer;
  private readonly rows: string[] = [];

  /** `tmpDir`: where files go now; `finalDir`: where they will be, as printed and listed. */
  constructor(
    private readonly tmpDir: string,
    private readonly finalDir: string,
  ) {
    this.namer = new OutputNamer(tmpDir);
  }

  /** Writes the image's files; returns their final paths. */
  async write(input: InputImage, p: ScoredImage): Promise<{ overlay: string; map: string }> {
    const files = await writePredictionFiles(p, this.namer.stem(input.relative));
    const rel = (f: string) => relative(this.tmpDir, f).split(sep).join('/');
    this.rows.push(csvRow([input.path, p.score, p.scoreNormalized, p.label, rel(files.overlay), rel(files.map)]));
    return { overlay: join(this.finalDir, rel(files.overlay)), map: join(this.finalDir, rel(files.map)) };
  }

  async finish(): Promise<void> {
    await writeFile(join(this.tmpDir, 'predictions.csv'), `${[PREDICT_CSV_HEADER, ...this.rows].join('\n')}\n`);
  }
}
