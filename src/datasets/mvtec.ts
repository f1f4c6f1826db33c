/**
 * MVTec AD layout: <root>/<category>/train/good, test/<defect>, ground_truth/<defect>/<stem>_mask.png.
 * Masks are matched by file stem (not by sorted position as the official code does), so a missing
 * or extra file is an error instead of a silent misalignment.
 */
import { join, parse } from 'node:path';
import { type AnomalyDataset, DatasetError, IMAGE_EXTENSIONS, type Sample } from './dataset.js';
import { isDir, listImages, masksByStem, subdirs, categoryDir } from './files.js';

export async function loadMvtec(root: string, category: string): Promise<AnomalyDataset> {
  const catDir = await categoryDir(root, category);
  const trainDir = join(catDir, 'train', 'good');
  if (!(await isDir(trainDir))) throw new DatasetError(`${trainDir}: missing (MVTec AD layout needs train/good)`);
  const train: Sample[] = (await listImages(trainDir)).map((path) => ({ path, label: 0, defectType: 'good' }));
  if (train.length === 0) throw new DatasetError(`${trainDir}: no training images (extensions ${IMAGE_EXTENSIONS.join(' ')})`);

  const test: Sample[] = [];
  const testDir = join(catDir, 'test');
  const gtDir = join(catDir, 'ground_truth');
  if (await isDir(testDir)) {
    for (const defect of await subdirs(testDir)) {
      const images = await listImages(join(testDir, defect));
      if (defect === 'good') {
        for (const path of images) test.push({ path, label: 0, defectType: defect });
        continue;
      }
      const masks = (await isDir(join(gtDir, defect))) ? await masksByStem(join(gtDir, defect)) : new Map<string, string>();
      for (const path of images) {
        const stem = parse(path).name;
        const maskPath = masks.get(stem);
        if (!maskPath) {
          throw new DatasetError(`${path}: no ground-truth mask (expected ${join(gtDir, defect, `${stem}_mask.png`)})`);
        }
        masks.delete(stem);
        test.push({ path, label: 1, defectType: defect, maskPath });
      }
      const orphan = masks.values().next().value as string | undefined;
      if (orphan) throw new DatasetError(`${orphan}: mask without a matching image in ${join(testDir, defect)}`);
    }
  }
  return { format: 'mvtec', root, category, train, test, hasMasks: true };
}
