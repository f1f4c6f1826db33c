/**
 * What simplenet writes, recognised from the files themselves, so that an output path is replaced
 * only when it holds something of ours: a model folder, a test report, a predict output folder, a
 * metrics JSON, an exported model, a checkpoint, a pulled dataset's record. Everything else a user points an output at is
 * refused, never deleted (issue 11: `--out` onto a dataset once removed it).
 */
import { existsSync, openSync, readSync, closeSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { csvRows } from './csv.js';

/**
 * `format` of simplenet.json (the model folder's manifest): how a folder is recognised as a
 * simplenet model.
 * @example const isModel = JSON.parse(await readFile('runs/bottle/simplenet.json', 'utf8')).format === MODEL_FORMAT;
 */
export const MODEL_FORMAT = 'simplenet-model';
/** `format` of `.simplenet-dataset.json`, the record `datasets pull` keeps in a dataset root. */
export const DATASET_RECORD_FORMAT = 'simplenet-dataset';
/** Header of the `predictions.csv` that marks a `predict --out` folder. */
export const PREDICT_CSV_HEADER = 'path,score,score_normalized,label,overlay,map';
/** Header of a test report's `predictions.csv`. */
export const REPORT_CSV_HEADER = 'path,label,defect_type,score,score_normalized,pred_label';

export type FolderKind = 'model' | 'report' | 'predictions' | 'web';

/** The marker (and configuration) file of a static web app written by `export --web`. */
export const WEB_MANIFEST = 'simplenet-web.json';
export const WEB_FORMAT = 'simplenet-web';
/** `format` of a model folder's `quantization.json` (`simplenet quantize`: int8 activation ranges). */
export const QUANTIZATION_FORMAT = 'simplenet-quantization';
/** `weights`: a file in simplenet's own weights cache, which holds nothing else. */
export type FileKind = 'metrics-json' | 'json' | 'onnx' | 'npy' | 'checkpoint' | 'text' | 'weights' | 'dataset-record' | 'quantization';

export const FOLDER_NAMES: Record<FolderKind, string> = {
  model: 'a simplenet model folder',
  report: 'a simplenet test report',
  predictions: 'a simplenet predict output folder',
  web: "a static web app of 'simplenet export --web'",
};

export const FILE_KIND_NAMES: Record<FileKind, string> = {
  'metrics-json': 'a metrics JSON',
  json: 'a JSON file',
  onnx: 'an ONNX model',
  npy: 'a .npy array',
  checkpoint: 'a training checkpoint',
  text: 'a results table',
  weights: 'a cached weights file',
  'dataset-record': "a dataset record of 'simplenet datasets pull'",
  quantization: "a model's int8 calibration of 'simplenet quantize'",
};

function head(path: string, n: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

function readJson(path: string, maxBytes = 1 << 24): unknown {
  try {
    if (statSync(path).size > maxBytes) return undefined;
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

const firstLine = (path: string): string | undefined => {
  try {
    return new TextDecoder().decode(head(path, 512)).split(/\r?\n/)[0];
  } catch {
    return undefined;
  }
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The manifest of a model folder, when `dir` is one. */
function modelManifest(dir: string): Record<string, unknown> | undefined {
  const m = readJson(join(dir, 'simplenet.json'));
  return isObject(m) && m.format === MODEL_FORMAT ? m : undefined;
}

const isMetricsJson = (path: string): boolean => {
  const m = readJson(path);
  return isObject(m) && 'threshold_source' in m && 'n_images' in m;
};

/** An ONNX model that simplenet wrote: ModelProto field 2 (producer_name) = "simplenet". */
const isOurOnnx = (path: string): boolean => {
  const bytes = head(path, 64);
  const needle = [0x12, 9, ...new TextEncoder().encode('simplenet')];
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
};

/** Whether the existing file at `path` is of the kind an output of `kind` may replace. */
export function isReplaceableFile(path: string, kind: FileKind): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    switch (kind) {
      case 'metrics-json':
        return isMetricsJson(path);
      case 'json':
        return readJson(path) !== undefined;
      case 'onnx':
        return isOurOnnx(path);
      case 'npy':
        return new TextDecoder().decode(head(path, 6)) === '\x93NUMPY';
      case 'checkpoint': {
        // safetensors: u64 header length, then the JSON header with our format in __metadata__.
        const h = head(path, 8);
        const len = h.length === 8 ? Number(new DataView(h.buffer, h.byteOffset).getBigUint64(0, true)) : 0;
        if (len < 2 || len > 1 << 26) return false;
        const json = JSON.parse(new TextDecoder().decode(head(path, 8 + len).subarray(8)));
        return isObject(json) && isObject(json.__metadata__) && json.__metadata__.format === 'simplenet-checkpoint';
      }
      case 'weights':
        return true;
      case 'dataset-record': {
        const m = readJson(path);
        return isObject(m) && m.format === DATASET_RECORD_FORMAT;
      }
      case 'quantization': {
        const m = readJson(path);
        return isObject(m) && m.format === QUANTIZATION_FORMAT;
      }
      case 'text':
        // Our CSV / Markdown tables: replaced only when the first line is one we write.
        return /^(category,|epoch,|# |path,)/.test(firstLine(path) ?? '');
    }
  } catch {
    return false;
  }
}

/** Whether the folder at `dir` is a finished output of `kind`. */
export function isFolderOf(dir: string, kind: FolderKind): boolean {
  try {
    if (!statSync(dir).isDirectory()) return false;
    if (kind === 'model') return modelEntriesAreOurs(dir);
    if (kind === 'report') {
      return (
        firstLine(join(dir, 'predictions.csv')) === REPORT_CSV_HEADER &&
        existsSync(join(dir, 'report.html')) &&
        isMetricsJson(join(dir, 'metrics.json')) &&
        reportEntriesAreOurs(dir)
      );
    }
    if (kind === 'web') return webEntriesAreOurs(dir);
    return firstLine(join(dir, 'predictions.csv')) === PREDICT_CSV_HEADER && predictionEntriesAreOurs(dir);
  } catch {
    return false;
  }
}

/** Every file under `dir`, as '/'-separated paths relative to it; false when something is not a plain file or folder. */
function filesUnder(dir: string): string[] | false {
  const out: string[] = [];
  const walk = (d: string): boolean =>
    readdirSync(d, { withFileTypes: true }).every((e) => {
      const p = join(d, e.name);
      if (e.isDirectory()) return walk(p);
      if (!e.isFile()) return false;
      out.push(relative(dir, p).split(sep).join('/'));
      return true;
    });
  return walk(dir) ? out : false;
}

/** A test report holding only what `test --report` writes: its four files, a .npy map under maps/ and a .png under images/ for each image. */
function reportEntriesAreOurs(dir: string): boolean {
  const files = filesUnder(dir);
  const top = new Set(['predictions.csv', 'metrics.json', 'metrics.md', 'report.html']);
  return files !== false && files.every((f) => top.has(f) || (f.startsWith('maps/') && f.endsWith('.npy')) || (f.startsWith('images/') && f.endsWith('.png')));
}

/** A `predict --out` folder holding only predictions.csv and the overlays and maps its rows list. */
function predictionEntriesAreOurs(dir: string): boolean {
  const files = filesUnder(dir);
  if (files === false) return false;
  // Each row ends with its overlay and its map, '/'-separated and relative to the folder (PredictionFolder).
  const listed = new Set(csvRows(readFileSync(join(dir, 'predictions.csv'), 'utf8')).flatMap((cells) => cells.slice(-2)));
  return files.every((f) => f === 'predictions.csv' || listed.has(f));
}

/** A static web app of ours, holding only the files its manifest lists (a user's additions make it not ours). */
function webEntriesAreOurs(dir: string): boolean {
  const m = readJson(join(dir, WEB_MANIFEST));
  if (!isObject(m) || m.format !== WEB_FORMAT || !Array.isArray(m.files)) return false;
  const own = new Set<unknown>([WEB_MANIFEST, ...m.files]);
  const walk = (d: string): boolean =>
    readdirSync(d, { withFileTypes: true }).every((e) => {
      const p = join(d, e.name);
      if (e.isDirectory()) return walk(p);
      return e.isFile() && own.has(relative(dir, p).split(sep).join('/'));
    });
  return walk(dir);
}

/**
 * A model folder, and nothing in it that a user put there: the manifest's own files, plus outputs
 * of ours that users often write beside a model (`test --json`, `--report`, `predict --out`, `export`,
 * `quantize`).
 */
function modelEntriesAreOurs(dir: string): boolean {
  return strangersInModel(dir)?.length === 0;
}

/** Entries of a model folder that simplenet did not write; undefined when `dir` is not a model. */
export function strangersInModel(dir: string): string[] | undefined {
  const m = modelManifest(dir);
  if (!m) return undefined;
  const file = (v: unknown) => (isObject(v) && typeof v.file === 'string' ? v.file : undefined);
  const training = isObject(m.training) ? m.training : {};
  const own = new Set(
    ['simplenet.json', 'training_log.csv', file(m.backbone), file(m.heads), training.logFile].filter((x): x is string => typeof x === 'string'),
  );
  return readdirSync(dir).filter((name) => {
    if (own.has(name)) return false;
    const p = join(dir, name);
    if (isReplaceableFile(p, 'metrics-json') || isReplaceableFile(p, 'onnx') || isReplaceableFile(p, 'quantization')) return false;
    return !(isFolderOf(p, 'report') || isFolderOf(p, 'predictions'));
  });
}
