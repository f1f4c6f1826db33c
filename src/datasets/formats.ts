/**
 * The dataset formats by name: what each needs (a zod schema of its spec, and the CLI flags that
 * fill it) and how it loads. `loadDataset`, the CLI's dataset flags, `benchmark` and the model's
 * recalibration all read this table, so a format is added in one place: here, or at run time with
 * `registerDatasetFormat`.
 */
import { z } from 'zod';
import type { AnomalyDataset } from './dataset.js';
import { DatasetError } from './dataset.js';
import { loadFolder } from './folder.js';
import { loadLoco } from './loco.js';
import { loadMvtec } from './mvtec.js';
import { loadMvtec3d } from './mvtec3d.js';
import { loadVisa } from './visa.js';

/**
 * One field of a spec and the CLI flag that sets it.
 * @example const field: DatasetField = { key: 'root', flag: '--data <root>', help: 'dataset root', required: true };
 */
export interface DatasetField {
  /** The spec's field name. */
  key: string;
  /** e.g. '--data <root>' (commander syntax). */
  flag: string;
  /** The flag's help text. */
  help: string;
  /** The flag must be given. Default false. */
  required?: boolean;
  /** A flag given several times collects a list. */
  repeatable?: boolean;
  /** Turns the flag's text into the field's value (throws with a message naming the flag). */
  parse?: (text: string) => unknown;
}

/**
 * A dataset format: its name, what its spec holds (a zod schema and the CLI flags that fill it)
 * and how it loads. Builtins: mvtec, visa, mvtec3d, loco, folder; more with `registerDatasetFormat`.
 * @example
 * registerDatasetFormat({ name: 'lines', description: 'one image path and label per line', schema: z.object({ list: z.string() }).strict(),
 *   fields: [{ key: 'list', flag: '--list <file>', help: 'the list file', required: true }], hasCategories: false, load: (s) => loadLines(s.list as string) });
 */
export interface DatasetFormat {
  /** What `format:` and `--format` call it. */
  name: string;
  /** One line for people: the layout it expects. */
  description: string;
  /** The spec's fields besides `format`, checked before loading. */
  schema: z.ZodType<Record<string, unknown>>;
  /** The CLI flags that fill the spec. */
  fields: readonly DatasetField[];
  /** Several categories under one root (its spec is `{ root, category }`): `benchmark --categories` applies. */
  hasCategories: boolean;
  /** Holds out good test images by a seeded split: the spec gets the training seed. */
  seeded?: boolean;
  /** Loads the dataset from a spec that passed `schema`. */
  load(spec: Record<string, unknown>): Promise<AnomalyDataset>;
}

const ROOT: DatasetField = { key: 'root', flag: '--data <root>', help: 'dataset root', required: true };
const CATEGORY: DatasetField = {
  key: 'category',
  flag: '--category <name>',
  help: 'category: a folder under the root (visa: the object column)',
  required: true,
};
const rootAndCategory = z.object({ root: z.string().min(1), category: z.string().min(1) }).strict();

function categorised(name: string, description: string, load: (root: string, category: string) => Promise<AnomalyDataset>): DatasetFormat {
  return {
    name,
    description,
    schema: rootAndCategory,
    fields: [ROOT, CATEGORY],
    hasCategories: true,
    load: (s) => load(s.root as string, s.category as string),
  };
}

const fraction = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n < 1)) throw new Error(`${flag} must be in [0, 1), got '${v}'`);
  return n;
};

const FOLDER: DatasetFormat = {
  name: 'folder',
  description: 'your own folders: good images, optional good test images, defective folders and masks',
  schema: z
    .object({
      normalDir: z.string().min(1),
      normalTestDir: z.string().min(1).optional(),
      abnormalDirs: z.array(z.string().min(1)).optional(),
      maskDir: z.string().min(1).optional(),
      extensions: z.array(z.string().regex(/^\.\w+$/)).optional(),
      testSplit: z.number().min(0).lt(1).optional(),
      seed: z.number().int().optional(),
      category: z.string().optional(),
    })
    .strict(),
  fields: [
    { key: 'normalDir', flag: '--normal-dir <dir>', help: 'folder format: good images for training', required: true },
    { key: 'normalTestDir', flag: '--normal-test-dir <dir>', help: 'folder format: good images for testing (default: a seeded split of --normal-dir)' },
    {
      key: 'abnormalDirs',
      flag: '--abnormal-dir <dir>',
      help: 'folder format: defective images (repeatable; the folder name is the defect type)',
      repeatable: true,
    },
    { key: 'maskDir', flag: '--mask-dir <dir>', help: 'folder format: masks named like their images (any image extension, optional _mask suffix)' },
    {
      key: 'extensions',
      flag: '--extensions <list>',
      help: 'folder format: image extensions, e.g. .png,.jpg',
      parse: (v) => v.split(',').map((e) => (e.trim().startsWith('.') ? e.trim() : `.${e.trim()}`)),
    },
    {
      key: 'testSplit',
      flag: '--test-split <fraction>',
      help: 'folder format without --normal-test-dir: share of good images held out for testing',
      parse: fraction('--test-split'),
    },
    { key: 'category', flag: '--category <name>', help: 'a name for the dataset in reports' },
  ],
  hasCategories: false,
  seeded: true,
  load: (s) => loadFolder(s as unknown as Parameters<typeof loadFolder>[0]),
};

const formats = new Map<string, DatasetFormat>(
  [
    categorised('mvtec', 'MVTec AD: <root>/<category>/{train/good, test/<type>, ground_truth/<type>}', loadMvtec),
    categorised('visa', 'VisA through its one-class split: <root>/split_csv/1cls.csv', loadVisa),
    categorised('mvtec3d', 'MVTec 3D-AD (RGB images): <root>/<category>/{train, validation, test}/…/rgb', loadMvtec3d),
    categorised('loco', 'MVTec LOCO AD: several masks per defect, united', loadLoco),
    FOLDER,
  ].map((f) => [f.name, f]),
);

/**
 * Adds a dataset format that `loadDataset({ format: name, … })` and the CLI's `--format` then accept.
 * @throws Error when the name is taken.
 * @example registerDatasetFormat({ name: 'mine', description: '…', schema, fields, hasCategories: false, load });
 */
export function registerDatasetFormat(format: DatasetFormat): void {
  if (formats.has(format.name)) throw new Error(`dataset format '${format.name}' is registered twice`);
  formats.set(format.name, format);
}

/**
 * The formats in registration order: the builtins, then any registered.
 * @example for (const f of datasetFormats()) console.log(f.name.padEnd(8), f.description);
 */
export function datasetFormats(): DatasetFormat[] {
  return [...formats.values()];
}

/** @throws DatasetError naming the known formats when `name` is not one. */
export function datasetFormat(name: string): DatasetFormat {
  const f = formats.get(name);
  if (!f) throw new DatasetError(`unknown dataset format '${name}': expected ${[...formats.keys()].join(', ')}`);
  return f;
}
