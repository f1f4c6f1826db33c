/** Dataset flags shared by `train` and `test`: --format and each format's own flags. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DATASET_FORMATS, type DatasetSpec } from '../datasets/load.js';

export interface DatasetFlags {
  format: (typeof DATASET_FORMATS)[number];
  data?: string;
  category?: string;
  normalDir?: string;
  normalTestDir?: string;
  abnormalDir?: string[];
  maskDir?: string;
  extensions?: string[];
  testSplit?: number;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addDatasetOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--format <format>', 'dataset layout').choices([...DATASET_FORMATS]).default('mvtec'))
    .option('--data <root>', 'dataset root (mvtec: <root>/<category>/train/good, ...; visa: <root>/split_csv/1cls.csv)')
    .option('--category <name>', 'category (mvtec, mvtec3d, loco: folder under the root; visa: the object column)')
    .option('--normal-dir <dir>', 'folder format: good images for training')
    .option('--normal-test-dir <dir>', 'folder format: good images for testing (default: a seeded split of --normal-dir)')
    .option('--abnormal-dir <dir>', 'folder format: defective images (repeatable; the folder name is the defect type)', collect)
    .option('--mask-dir <dir>', 'folder format: masks named like their images (any image extension, optional _mask suffix)')
    .option('--extensions <list>', 'folder format: image extensions, e.g. .png,.jpg', (v: string) =>
      v.split(',').map((e) => (e.trim().startsWith('.') ? e.trim() : `.${e.trim()}`)),
    )
    .option('--test-split <fraction>', 'folder format without --normal-test-dir: share of good images held out for testing', (v: string) => {
      const n = Number(v);
      if (!(n >= 0 && n < 1)) throw new InvalidArgumentError(`--test-split must be in [0, 1), got '${v}'`);
      return n;
    });
}

/** The dataset to load; `seed` fixes the held-out split of the folder format (use the model's at test time). */
export function datasetSpecFrom(flags: DatasetFlags, seed: number): DatasetSpec {
  if (flags.format === 'folder') {
    if (!flags.normalDir) throw new Error('--format folder needs --normal-dir <dir>');
    if (flags.data) throw new Error('--data applies to the mvtec and visa formats; the folder format takes --normal-dir and friends');
    return {
      format: 'folder',
      normalDir: flags.normalDir,
      normalTestDir: flags.normalTestDir,
      abnormalDirs: flags.abnormalDir,
      maskDir: flags.maskDir,
      extensions: flags.extensions,
      testSplit: flags.testSplit,
      seed,
      category: flags.category,
    };
  }
  const folderOnly = ['normalDir', 'normalTestDir', 'abnormalDir', 'maskDir', 'extensions', 'testSplit'] as const;
  const stray = folderOnly.find((k) => flags[k] !== undefined);
  if (stray) throw new Error(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to --format folder only`);
  if (!flags.data || !flags.category) throw new Error(`--format ${flags.format} needs --data <root> and --category <name>`);
  return { format: flags.format, root: flags.data, category: flags.category };
}
