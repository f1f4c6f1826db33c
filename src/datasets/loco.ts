/**
 * MVTec LOCO AD: <root>/<category>/train/good, validation/good, test/{good, logical_anomalies,
 * structural_anomalies}, and ground_truth/<defect>/<image stem>/000.png, 001.png, … — one mask per
 * annotated defect of the image; their union is the image's mask.
 */
import { join, parse } from 'node:path';
import { type AnomalyDataset, DatasetError, type Sample } from './dataset.js';
import { isDir, listImages, subdirs, categoryDir } from './files.js';

export async function loadLoco(root: string, category: string): Promise<AnomalyDataset> {
  const catDir = await categoryDir(root, category);
  const trainDir = join(catDir, 'train', 'good');
  if (!(await isDir(trainDir))) throw new DatasetError(`${trainDir}: missing (MVTec LOCO layout needs train/good)`);
  const train: Sample[] = (await listImages(trainDir)).map((path) => ({ path, label: 0, defectType: 'good' }));
  if (train.length === 0) throw new DatasetError(`${trainDir}: no training images`);
  const test: Sample[] = [];
  const testDir = join(catDir, 'test');
  if (await isDir(testDir)) {
    for (const defect of await subdirs(testDir)) {
      for (const path of await listImages(join(testDir, defect))) {
        if (defect === 'good') {
          test.push({ path, label: 0, defectType: defect });
          continue;
        }
        const gtDir = join(catDir, 'ground_truth', defect, parse(path).name);
        const masks = (await isDir(gtDir)) ? await listImages(gtDir) : [];
        if (masks.length === 0) throw new DatasetError(`${path}: no ground-truth masks (expected ${gtDir}/000.png, …)`);
        test.push({ path, label: 1, defectType: defect, maskPath: masks[0], extraMaskPaths: masks.slice(1) });
      }
    }
  }
  return { format: 'loco', root, category, train, test, hasMasks: true };
}
