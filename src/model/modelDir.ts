/**
 * The model directory: one self-describing artifact that `test` (and later `predict`, the server and
 * `export`) needs nothing beside. It holds the validated config, the backbone as the exact ONNX
 * graph that was trained on with its identity, the head weights with BN running stats, and the log.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Backbone, BackboneIdentity } from '../backbones/backbone.js';
import type { LayerShape } from '../embedding/patchEmbed.js';
import { checkHeadParams, type HeadParams, PARAM_NAMES } from '../heads/params.js';
import { writeDirAtomic, writeFileDurable } from '../io/atomic.js';
import { VERSION } from '../core/version.js';
import { MODEL_FORMAT } from '../io/artefacts.js';
import { cleanStaleTemporaries } from '../io/temporaries.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { firstNonFinite } from '../onnx/finite.js';
import { type Calibration, parseCalibration } from './calibration.js';
import { parseConfig, presetOf, type SimpleNetConfig } from './config.js';
import { manifestProblem } from './manifestSchema.js';

export { MODEL_FORMAT };
export const MODEL_FORMAT_VERSION = 1;

export interface EpochLog {
  epoch: number;
  loss: number;
  pTrue: number;
  pFake: number;
  seconds: number;
  /** Learning-rate multiplier at the epoch's last step (schedule × guard). */
  lrFactor?: number;
  /** Synthetic-defect validation, when run after this epoch. */
  valImageAuroc?: number;
  valPatchAuroc?: number;
  /** A divergence-guard rollback after this epoch. */
  event?: string;
}

export interface TrainingRecord {
  dataset: { format: string; root: string; category: string; nTrain: number };
  epochs: number;
  seed: number;
  steps: number;
  seconds: number;
  featureSeconds: number;
  log: EpochLog[];
  /** σ of the synthetic noise actually used (and the feature std it was scaled by, if relative). */
  noiseStd?: number;
  featureStd?: number;
  /** Which weights are the model: the final epoch's or the best on validation. */
  selected?: { by: 'final' | 'validation'; epoch: number; score?: number };
  rollbacks?: { epoch: number; loss: number; restoredEpoch: number; lrScale: number }[];
  /** Epochs after which an interrupted run was resumed from a checkpoint. */
  resumedAt?: number[];
  /** Good training images held out for thresholds (absent: none were). */
  validation?: { fraction: number; quantile: number; images: string[] };
}

export interface ModelManifest {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  simplenetVersion: string;
  createdAt: string;
  preset: string;
  config: SimpleNetConfig;
  backbone: {
    identity: BackboneIdentity;
    inputName: string;
    mean: [number, number, number];
    std: [number, number, number];
    layers: string[];
    layerShapes: LayerShape[];
    file: string;
    sha256: string;
  };
  heads: { file: string; sha256: string };
  training: Omit<TrainingRecord, 'log'> & { logFile: string };
  /**
   * Image-score threshold and normalisation range used by the scoring graph (absent in models
   * written before it existed; `resolveCalibration` then recomputes it from the training images).
   */
  scoring?: Calibration;
}

export interface SimpleNetModel {
  dir: string;
  manifest: ModelManifest;
  config: SimpleNetConfig;
  backbone: Backbone;
  params: HeadParams;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export const TRAINING_LOG_HEADER = 'epoch,loss,p_true,p_fake,seconds,lr_factor,val_image_auroc,val_patch_auroc,event';

export function logCsv(log: EpochLog[]): string {
  const opt = (v: number | undefined) => (v === undefined ? '' : String(v));
  const rows = log.map((e) =>
    [e.epoch, e.loss, e.pTrue, e.pFake, e.seconds.toFixed(3), opt(e.lrFactor), opt(e.valImageAuroc), opt(e.valPatchAuroc), e.event ? `"${e.event}"` : ''].join(
      ',',
    ),
  );
  return [TRAINING_LOG_HEADER, ...rows].join('\n') + '\n';
}

/**
 * Writes the model directory atomically: a failure leaves nothing behind and keeps an old model;
 * only a model folder of ours (or nothing, or an empty folder) is ever replaced (io/atomic.ts).
 */
export async function saveModel(
  dir: string,
  m: {
    config: SimpleNetConfig;
    backbone: Backbone;
    layerShapes: LayerShape[];
    params: HeadParams;
    training: TrainingRecord;
    scoring?: Calibration;
  },
): Promise<ModelManifest> {
  const heads = encodeSafetensors(m.params, { format: MODEL_FORMAT });
  const { log, ...training } = m.training;
  const manifest: ModelManifest = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    simplenetVersion: VERSION,
    createdAt: new Date().toISOString(),
    preset: presetOf(m.config),
    config: m.config,
    backbone: {
      identity: m.backbone.identity,
      inputName: m.backbone.inputName,
      mean: m.backbone.mean,
      std: m.backbone.std,
      layers: m.backbone.layers,
      layerShapes: m.layerShapes,
      file: 'backbone.onnx',
      sha256: sha256(m.backbone.onnx),
    },
    heads: { file: 'heads.safetensors', sha256: sha256(heads) },
    training: { ...training, logFile: 'training_log.csv' },
    ...(m.scoring ? { scoring: m.scoring } : {}),
  };
  const problem = manifestProblem(manifest);
  if (problem) throw new Error(`simplenet.json would not be valid: ${problem}`);
  await writeDirAtomic(dir, 'model', async (tmp) => {
    await writeFileDurable(join(tmp, 'backbone.onnx'), m.backbone.onnx);
    await writeFileDurable(join(tmp, 'heads.safetensors'), heads);
    await writeFileDurable(join(tmp, 'training_log.csv'), logCsv(log));
    await writeFileDurable(join(tmp, 'simplenet.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  });
  return manifest;
}

/** The model's training_log.csv (older models have only the first five columns). */
export async function readTrainingLog(dir: string): Promise<EpochLog[]> {
  const path = join(dir, 'training_log.csv');
  const lines = (await readFile(path, 'utf8')).trim().split('\n');
  const header = lines[0].split(',');
  const col = (name: string) => header.indexOf(name);
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  return lines.slice(1).map((line) => {
    const f = line.split(',');
    const value = (name: string) => (col(name) >= 0 ? f[col(name)] : undefined);
    const e: EpochLog = { epoch: Number(f[0]), loss: Number(f[1]), pTrue: Number(f[2]), pFake: Number(f[3]), seconds: Number(f[4]) };
    const lr = num(value('lr_factor'));
    const vi = num(value('val_image_auroc'));
    const vp = num(value('val_patch_auroc'));
    if (lr !== undefined) e.lrFactor = lr;
    if (vi !== undefined) e.valImageAuroc = vi;
    if (vp !== undefined) e.valPatchAuroc = vp;
    // The event is the last column and may itself hold commas.
    const event = col('event') >= 0 ? f.slice(col('event')).join(',').replace(/^"|"$/g, '') : '';
    if (event) e.event = event;
    return e;
  });
}

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

export async function loadModel(dir: string): Promise<SimpleNetModel> {
  const manifestPath = join(dir, 'simplenet.json');
  // A replacement killed between its two renames left the complete old model aside (io/atomic.ts).
  if (!existsSync(manifestPath)) await cleanStaleTemporaries(dirname(resolve(dir)));
  if (!existsSync(manifestPath)) throw new ModelLoadError(`${dir}: not a simplenet model directory (no simplenet.json)`);
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  } catch (e) {
    throw new ModelLoadError(`${manifestPath}: not valid JSON (${(e as Error).message})`);
  }
  if (manifest.format !== MODEL_FORMAT) throw new ModelLoadError(`${manifestPath}: not a simplenet model (format '${manifest.format}')`);
  if (manifest.formatVersion !== MODEL_FORMAT_VERSION) {
    throw new ModelLoadError(
      `${dir}: model format version ${manifest.formatVersion} (written by simplenet ${manifest.simplenetVersion}) ` +
        `is not supported by simplenet ${VERSION}, which reads format version ${MODEL_FORMAT_VERSION}`,
    );
  }
  const problem = manifestProblem(manifest);
  if (problem) throw new ModelLoadError(`${manifestPath}: ${problem}`);
  const config = parseConfig(manifest.config, manifestPath);
  if (manifest.scoring !== undefined) manifest.scoring = parseCalibration(manifest.scoring, manifestPath);
  const read = async (file: string, expected: string): Promise<Uint8Array> => {
    const p = join(dir, file);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(p));
    } catch {
      throw new ModelLoadError(`${p}: missing from the model directory`);
    }
    if (sha256(bytes) !== expected) throw new ModelLoadError(`${p}: sha256 does not match simplenet.json (file changed or corrupt)`);
    return bytes;
  };
  const onnx = await read(manifest.backbone.file, manifest.backbone.sha256);
  const headsPath = join(dir, manifest.heads.file);
  const heads = decodeSafetensors(await read(manifest.heads.file, manifest.heads.sha256), headsPath);
  const params = {} as HeadParams;
  for (const name of PARAM_NAMES) {
    const t = heads.tensors.get(name);
    if (!t) throw new ModelLoadError(`${headsPath}: tensor '${name}' is missing`);
    params[name] = t as HeadParams[typeof name];
  }
  checkHeadParams(params, { featureDim: config.embed.targetDim, hiddenDim: config.head.hiddenDim }, headsPath);
  // A NaN weight makes every score NaN, which no threshold flags (src/onnx/finite.ts): refuse the model.
  for (const name of PARAM_NAMES) {
    const i = firstNonFinite(params[name].data);
    if (i >= 0) {
      throw new ModelLoadError(
        `${headsPath}: tensor '${name}' holds ${params[name].data[i]} at element ${i}; a model with non-finite weights cannot score (retrain it)`,
      );
    }
  }
  const b = manifest.backbone;
  return {
    dir,
    manifest,
    config,
    params,
    backbone: { identity: b.identity, inputName: b.inputName, mean: b.mean, std: b.std, layers: b.layers, onnx },
  };
}
