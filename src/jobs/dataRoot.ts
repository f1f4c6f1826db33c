/**
 * The data root: the one folder training data may come from. A job names its dataset and a
 * manifest backbone by paths relative to it; each is resolved with realpath, so neither `..` nor a
 * symlink can reach outside, and every image the dataset lists is checked the same way. All of it
 * runs before a job exists, so a rejected spec creates nothing.
 */
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { builtinNames } from '../backbones/registry.js';
import { loadDataset } from '../datasets/load.js';
import { datasetFormat } from '../datasets/formats.js';
import type { DatasetSpec } from '../datasets/load.js';
import { JobSpecError } from './jobErrors.js';
import type { JobSpec } from './jobSpec.js';

/** What a job trains on, in absolute paths, after every check. */
export interface ResolvedData {
  data: DatasetSpec;
  backbone: string;
  goodImages: number;
}

const inside = (root: string, p: string) => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);

export class DataRoot {
  /** The root's real path. */
  readonly root: string;

  /** @throws Error naming `dir` when it is not a folder. */
  constructor(dir: string) {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch (e) {
      throw new Error(`--data-root ${dir}: cannot open it (${(e as Error).message})`);
    }
    if (!statSync(real).isDirectory()) throw new Error(`--data-root ${dir}: is not a folder`);
    this.root = real;
  }

  /** Whether a real path lies under the root. */
  contains(real: string): boolean {
    return inside(this.root, real);
  }

  /**
   * The real path of `rel` under the root.
   * @throws JobSpecError when `rel` is absolute, has a `..` part, leads outside through a symlink,
   * or does not exist.
   */
  resolve(rel: string, what: string): string {
    if (isAbsolute(rel) || rel.split(/[/\\]/).includes('..')) {
      throw new JobSpecError(`${what} '${rel}': give a path relative to the data root, without '..'`);
    }
    let real: string;
    try {
      real = realpathSync(join(this.root, rel));
    } catch {
      throw new JobSpecError(`${what} '${rel}': does not exist under the data root`);
    }
    if (!this.contains(real)) throw new JobSpecError(`${what} '${rel}': leads outside the data root`);
    return real;
  }

  /** The path of a real path relative to the root ('.' for the root itself). */
  relative(real: string): string {
    return relative(this.root, real) || '.';
  }

  /**
   * Checks a job's data and backbone and gives them as absolute paths.
   * @throws JobSpecError naming the field and the reason: outside the root, missing, an unknown or
   * untrainable format, no good training images.
   */
  async check(spec: JobSpec): Promise<ResolvedData> {
    const { format: name, path, category } = spec.dataset;
    let hasCategories: boolean;
    try {
      hasCategories = datasetFormat(name).hasCategories;
    } catch (e) {
      throw new JobSpecError(`dataset.format: ${(e as Error).message}`);
    }
    const dir = this.resolve(path, 'dataset.path');
    if (!statSync(dir).isDirectory()) throw new JobSpecError(`dataset.path '${path}': is not a folder`);
    let data: DatasetSpec;
    if (name === 'folder') {
      data = { format: 'folder', normalDir: dir, ...(category ? { category } : {}) };
    } else if (hasCategories) {
      if (!category) throw new JobSpecError(`dataset.category: format '${name}' needs a category (a folder under '${path}')`);
      if (/[/\\]/.test(category) || category === '..' || category === '.') throw new JobSpecError(`dataset.category '${category}': give a folder name`);
      this.resolve(join(path, category), 'dataset.category');
      data = { format: name, root: dir, category } as DatasetSpec;
    } else {
      throw new JobSpecError(`dataset.format '${name}': jobs train from 'folder' or a format with categories (e.g. 'mvtec')`);
    }
    let samples: { path: string; label: number }[];
    let train: number;
    try {
      const ds = await loadDataset(data);
      samples = [...ds.train, ...ds.test];
      train = ds.train.length;
    } catch (e) {
      throw new JobSpecError(`dataset '${path}': ${(e as Error).message}`);
    }
    if (train === 0) throw new JobSpecError(`dataset '${path}': has no good training images`);
    // The loaders follow symlinks; an image that really lives outside the root is refused too.
    for (const s of samples) {
      let real: string;
      try {
        real = realpathSync(s.path);
      } catch {
        continue;
      }
      if (!this.contains(real)) throw new JobSpecError(`dataset '${path}': ${this.relative(s.path)} leads outside the data root`);
    }
    return { data, backbone: this.backbone(spec.backbone), goodImages: train };
  }

  private backbone(b: string): string {
    if (builtinNames().includes(b)) return b;
    if (!b.endsWith('.json')) throw new JobSpecError(`backbone '${b}': expected one of ${builtinNames().join(', ')} or a manifest .json under the data root`);
    const real = this.resolve(b, 'backbone');
    if (!statSync(real).isFile()) throw new JobSpecError(`backbone '${b}': is not a file`);
    return real;
  }
}
