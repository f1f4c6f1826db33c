/**
 * The model directory: one self-describing artifact that `test` (and later `predict`, the server and
 * `export`) needs nothing beside. It holds the validated config, the backbone as the exact ONNX
 * graph that was trained on with its identity, the head weights with BN running stats, and the log.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readRegularFile } from '../io/readRegular.js';
import { dirname, join, resolve } from 'node:path';
import type { Backbone, BackboneIdentity } from '../backbones/backbone.js';
import type { LayerShape } from '../embedding/patchEmbed.js';
import { tileGrid } from '../images/fit.js';
import { checkHeadParams, type HeadParams, PARAM_NAMES } from '../heads/params.js';
import { checkKnnParams, KNN_BANK, type ModelParams } from '../heads/knn.js';
import { writeDirAtomic, writeFileDurable } from '../io/atomic.js';
import { VERSION } from '../core/version.js';
import { MODEL_FORMAT } from '../io/artefacts.js';
import { cleanStaleTemporaries } from '../io/temporaries.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { firstNonFinite } from '../onnx/finite.js';
import { type Calibration, parseCalibration } from './calibration.js';
import { FIELDS_BEFORE_THEY_EXISTED, headKind, mergeConfig, parseConfig, presetOf, type SimpleNetConfig } from './config.js';
import { manifestProblem } from './manifestSchema.js';
import { oneLine } from '../core/progress.js';

export { MODEL_FORMAT };
export const MODEL_FORMAT_VERSION = 1;

/**
 * One row of a model's training_log.csv: an epoch's loss, the discriminator's real/fake rates and
 * the synthetic-defect validation when it ran. From `readTrainingLog`.
 * @example
 * const log: EpochLog[] = await readTrainingLog('runs/bottle');
 * const best = log.filter((e) => e.valImageAuroc !== undefined).sort((a, b) => b.valImageAuroc! - a.valImageAuroc!)[0];
 */
export interface EpochLog {
  /** The epoch, from 1. */
  epoch: number;
  /** Mean training loss of the epoch. */
  loss: number;
  /** Share of real features the discriminator scored at or above the margin. */
  pTrue: number;
  /** Share of fake features the discriminator scored below −margin. */
  pFake: number;
  /** Wall time of the epoch. */
  seconds: number;
  /** Learning-rate multiplier at the epoch's last step (schedule × guard). */
  lrFactor?: number;
  /** Synthetic-defect validation, when run after this epoch. */
  valImageAuroc?: number;
  /** Patch AUROC of the same validation. */
  valPatchAuroc?: number;
  /** Patch AUPRO of the same validation (reported; selection uses image + patch AUROC). */
  valPatchAupro?: number;
  /** A divergence-guard rollback after this epoch. */
  event?: string;
}

/**
 * How a model was trained: the data, epochs, seed, steps, time, the epoch log and which weights
 * were kept. Stored (without the log, which is training_log.csv) as the manifest's `training`.
 * @example
 * const { dataset, epochs, selected } = detector.model.manifest.training;
 * console.log(`${dataset.category}: ${dataset.nTrain} images, ${epochs} epochs, kept epoch ${selected?.epoch ?? epochs}`);
 */
export interface TrainingRecord {
  /** The training data: format, root folder, category and the number of training images. */
  dataset: { format: string; root: string; category: string; nTrain: number };
  /** Epochs trained. */
  epochs: number;
  /** The seed of the run (`config.train.seed`). */
  seed: number;
  /** Optimiser steps taken. */
  steps: number;
  /** Wall time of training, feature extraction included. */
  seconds: number;
  /** Wall time of extracting and caching the training features. */
  featureSeconds: number;
  /** One entry per epoch. */
  log: EpochLog[];
  /** σ of the synthetic noise actually used (and the feature std it was scaled by, if relative). */
  noiseStd?: number;
  /** The features' measured std that `noiseStd` was scaled by (noiseScale 'feature-std'). */
  featureStd?: number;
  /** Which weights are the model: the final epoch's or the best on validation. */
  selected?: { by: 'final' | 'validation'; epoch: number; score?: number };
  /** Divergence-guard rollbacks: when, the loss that triggered it, the epoch restored and the new learning-rate scale. */
  rollbacks?: { epoch: number; loss: number; restoredEpoch: number; lrScale: number }[];
  /** Epochs after which an interrupted run was resumed from a checkpoint. */
  resumedAt?: number[];
  /** Good training images held out for thresholds (absent: none were). */
  validation?: { fraction: number; quantile: number; images: string[] };
  /**
   * A knn head's memory bank: `bankRows` of the `trainRows` training patch features, chosen by
   * greedy k-center selection from row `start` on a `projectionDim`-d random projection, in
   * `refreshes` full passes and `seconds`.
   */
  coreset?: { bankRows: number; trainRows: number; start: number; projectionDim: number; refreshes: number; seconds: number };
}

/**
 * simplenet.json, the manifest of a model folder: format and version, the configuration, the
 * backbone's identity, normalisation and layer shapes, the files with their sha256s, how it was
 * trained and its calibration. Checked by `ModelManifestSchema` when written and loaded.
 * @example
 * const m: ModelManifest = (await loadModel('runs/bottle')).manifest;
 * console.log(m.simplenetVersion, m.createdAt, m.backbone.layers, m.scoring?.imageThreshold);
 */
export interface ModelManifest {
  /** Always `MODEL_FORMAT` ('simplenet-model'). */
  format: typeof MODEL_FORMAT;
  /** The folder layout's version; this simplenet reads 1. */
  formatVersion: number;
  /** The simplenet version that wrote it. */
  simplenetVersion: string;
  /** When it was written (ISO 8601). */
  createdAt: string;
  /** 'validated', 'paper' or 'custom' (judged from the configuration). */
  preset: string;
  /** The full configuration trained with. */
  config: SimpleNetConfig;
  /** The backbone as trained with: identity, input, normalisation, layers and their shapes, and its ONNX file. */
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
  /** The head weights file (heads.safetensors) and its sha256. */
  heads: { file: string; sha256: string };
  /** How it was trained; the epoch log is in `logFile` (training_log.csv). */
  training: Omit<TrainingRecord, 'log'> & { logFile: string };
  /**
   * Image-score threshold and normalisation range used by the scoring graph (absent in models
   * written before it existed; `resolveCalibration` then recomputes it from the training images).
   */
  scoring?: Calibration;
}

/**
 * A model folder loaded into memory, checked: its manifest, configuration, backbone (with the
 * ONNX bytes) and head weights. From `loadModel`, or `detector.model`.
 * @example
 * const model: SimpleNetModel = await loadModel('runs/bottle');
 * const folded = await foldHead(model.params, { bnEps: model.config.head.bnEps });
 */
export interface SimpleNetModel {
  /** The folder it was loaded from. */
  dir: string;
  /** simplenet.json as read and checked. */
  manifest: ModelManifest;
  /** The validated configuration (the manifest's, parsed). */
  config: SimpleNetConfig;
  /** The backbone as trained with, its ONNX bytes read from backbone.onnx. */
  backbone: Backbone;
  /**
   * The head's weights: the trained adaptor and discriminator (HeadParams), or with
   * `config.head.kind` 'knn' the memory bank (KnnParams).
   */
  params: ModelParams;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export const TRAINING_LOG_HEADER = 'epoch,loss,p_true,p_fake,seconds,lr_factor,val_image_auroc,val_patch_auroc,val_patch_aupro,event';

export function logCsv(log: EpochLog[]): string {
  const opt = (v: number | undefined) => (v === undefined ? '' : String(v));
  const rows = log.map((e) =>
    [
      e.epoch,
      e.loss,
      e.pTrue,
      e.pFake,
      e.seconds.toFixed(3),
      opt(e.lrFactor),
      opt(e.valImageAuroc),
      opt(e.valPatchAuroc),
      opt(e.valPatchAupro),
      e.event ? `"${e.event}"` : '',
    ].join(','),
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
    params: ModelParams;
    training: TrainingRecord;
    scoring?: Calibration;
  },
): Promise<ModelManifest> {
  // A model must score alone: 'auto' tiles are resolved from the training images (training/trainingFeatures.ts).
  tileGrid(m.config.image);
  const heads = encodeSafetensors({ ...m.params }, { format: MODEL_FORMAT });
  const { log, ...training } = m.training;
  const manifest: ModelManifest = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    simplenetVersion: VERSION,
    createdAt: new Date().toISOString(),
    // A knn head has no training mechanisms for a preset to describe.
    preset: headKind(m.config) === 'knn' ? 'knn' : presetOf(m.config),
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

/**
 * The model's training_log.csv (older models have only the first five columns).
 * @throws Error (ENOENT) when the folder has no training_log.csv.
 * @example for (const e of await readTrainingLog('runs/bottle')) console.log(e.epoch, e.loss, e.valImageAuroc ?? '');
 */
export async function readTrainingLog(dir: string): Promise<EpochLog[]> {
  const path = join(dir, 'training_log.csv');
  const lines = (await readRegularFile(path, 'utf8')).trim().split('\n');
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
    const va = num(value('val_patch_aupro'));
    if (va !== undefined) e.valPatchAupro = va;
    // The event is the last column and may itself hold commas.
    const event = col('event') >= 0 ? f.slice(col('event')).join(',').replace(/^"|"$/g, '') : '';
    if (event) e.event = event;
    return e;
  });
}

/**
 * A folder is not a usable simplenet model: no or invalid simplenet.json, an unsupported format
 * version, a missing or changed file (sha256), a missing head tensor or non-finite weights. The
 * message names the file.
 * @example
 * try { await Detector.load(dir); } catch (e) { if (e instanceof ModelLoadError) console.error(`not a model: ${e.message}`); }
 */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

/**
 * Loads and checks a model folder written by `train`: every file against its sha256 in
 * simplenet.json, the configuration, and the head weights' shapes and values. `Detector.load`
 * calls it; use it directly to inspect a model or build graphs from it.
 * @throws ModelLoadError naming the file when the folder is not a complete, intact simplenet model
 * of a supported format version; Error naming simplenet.json and the field when the configuration
 * or calibration in it is invalid; Error / TypeError / RangeError naming heads.safetensors when it
 * is malformed or a tensor has the wrong dtype or shape.
 * @example
 * const model = await loadModel('runs/bottle');
 * console.log(model.manifest.backbone.identity, model.config.image.crop);
 */
export async function loadModel(dir: string): Promise<SimpleNetModel> {
  const manifestPath = join(dir, 'simplenet.json');
  // A replacement killed between its two renames left the complete old model aside (io/atomic.ts).
  if (!existsSync(manifestPath)) await cleanStaleTemporaries(dirname(resolve(dir)));
  if (!existsSync(manifestPath)) throw new ModelLoadError(`${dir}: not a simplenet model directory (no simplenet.json)`);
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(await readRegularFile(manifestPath, 'utf8'));
  } catch (e) {
    throw new ModelLoadError(`${manifestPath}: not valid JSON (${oneLine((e as Error).message)})`);
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw new ModelLoadError(`${manifestPath}: not a simplenet model (expected a JSON object)`);
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
  // A saved config holds every field it had then; fields added since take the value that ran then.
  const config = parseConfig(mergeConfig(FIELDS_BEFORE_THEY_EXISTED, manifest.config), manifestPath);
  if (manifest.scoring !== undefined) manifest.scoring = parseCalibration(manifest.scoring, manifestPath);
  const read = async (file: string, expected: string): Promise<Uint8Array> => {
    const p = join(dir, file);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readRegularFile(p));
    } catch {
      throw new ModelLoadError(`${p}: missing from the model directory`);
    }
    if (sha256(bytes) !== expected) throw new ModelLoadError(`${p}: sha256 does not match simplenet.json (file changed or corrupt)`);
    return bytes;
  };
  const onnx = await read(manifest.backbone.file, manifest.backbone.sha256);
  const headsPath = join(dir, manifest.heads.file);
  const heads = decodeSafetensors(await read(manifest.heads.file, manifest.heads.sha256), headsPath);
  const names: readonly string[] = headKind(config) === 'knn' ? [KNN_BANK] : PARAM_NAMES;
  const found: Record<string, HeadParams[keyof HeadParams]> = {};
  for (const name of names) {
    const t = heads.tensors.get(name);
    if (!t) throw new ModelLoadError(`${headsPath}: tensor '${name}' is missing`);
    found[name] = t as HeadParams[keyof HeadParams];
  }
  const params: ModelParams =
    headKind(config) === 'knn'
      ? checkKnnParams(found, config.embed.targetDim, headsPath)
      : checkHeadParams(found, { featureDim: config.embed.targetDim, hiddenDim: config.head.hiddenDim }, headsPath);
  // A NaN weight makes every score NaN, which no threshold flags (src/onnx/finite.ts): refuse the model.
  for (const name of names) {
    const i = firstNonFinite(found[name].data);
    if (i >= 0) {
      throw new ModelLoadError(
        `${headsPath}: tensor '${name}' holds ${found[name].data[i]} at element ${i}; a model with non-finite weights cannot score (retrain it)`,
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
