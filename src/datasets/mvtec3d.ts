/**
 * MVTec 3D-AD, RGB images only: <root>/<category>/{train,validation}/good/rgb/*.png,
 * test/<defect>/rgb/*.png with masks in test/<defect>/gt/<same name>.png (good images have
 * all-zero masks there too). The point clouds (xyz/) are not used.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type AnomalyDataset, DatasetError, type Sample } from './dataset.js';
import { isDir, listImages, subdirs, categoryDir } from './files.js';

export async function loadMvtec3d(root: string, category: string): Promise<AnomalyDataset> {
  const catDir = await categoryDir(root, category);
  const trainDir = join(catDir, 'train', 'good', 'rgb');
  if (!(await isDir(trainDir))) throw new DatasetError(`${trainDir}: missing (MVTec 3D-AD layout needs train/good/rgb)`);
  const train: Sample[] = (await listImages(trainDir)).map((path) => ({ path, label: 0, defectType: 'good' }));
  if (train.length === 0) throw new DatasetError(`${trainDir}: no training images`);
  const test: Sample[] = [];
  const testDir = join(catDir, 'test');
  if (await isDir(testDir)) {
    for (const defect of await subdirs(testDir)) {
      for (const path of await listImages(join(testDir, defect, 'rgb'))) {
        if (defect === 'good') {
          test.push({ path, label: 0, defectType: defect });
          continue;
        }
        const maskPath = join(testDir, defect, 'gt', basename(path));
        if (!(await isDir(join(testDir, defect, 'gt')))) throw new DatasetError(`${join(testDir, defect, 'gt')}: missing (masks of ${defect})`);
        if (!existsSync(maskPath)) throw new DatasetError(`${path}: no ground-truth mask (expected ${maskPath})`);
        test.push({ path, label: 1, defectType: defect, maskPath });
      }
    }
  }
  return { format: 'mvtec3d', root, category, train, test, hasMasks: true };
}
