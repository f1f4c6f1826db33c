/**
 * VisA through its official one-class split, `<root>/split_csv/1cls.csv` (columns object, split,
 * label, image, mask; paths relative to the root), as GLASS, anomalib and SuperSimpleNet read it.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AnomalyDataset, DatasetError, type Sample } from './dataset.js';

function parseCsv(text: string): string[][] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim().length > 0)
    .map((l) => l.split(',').map((c) => c.trim()));
}

export async function loadVisa(root: string, category: string): Promise<AnomalyDataset> {
  const csvPath = join(root, 'split_csv', '1cls.csv');
  if (!existsSync(csvPath)) throw new DatasetError(`${csvPath}: missing (VisA needs its split_csv/1cls.csv)`);
  const [header, ...rows] = parseCsv(await readFile(csvPath, 'utf8'));
  const col = (name: string) => {
    const i = header?.indexOf(name) ?? -1;
    if (i < 0) throw new DatasetError(`${csvPath}: no '${name}' column (header: ${header?.join(',')})`);
    return i;
  };
  const [cObject, cSplit, cLabel, cImage, cMask] = ['object', 'split', 'label', 'image', 'mask'].map(col);
  const mine = rows.filter((r) => r[cObject] === category);
  if (mine.length === 0) {
    const known = [...new Set(rows.map((r) => r[cObject]))].sort();
    throw new DatasetError(`${csvPath}: unknown category '${category}' (found: ${known.join(', ')})`);
  }
  const train: Sample[] = [];
  const test: Sample[] = [];
  mine.forEach((r, i) => {
    const path = join(root, r[cImage]);
    if (!existsSync(path)) throw new DatasetError(`${path}: listed in ${csvPath} (row ${i + 2} of '${category}') but missing`);
    const anomalous = r[cLabel] === 'anomaly';
    if (!anomalous && r[cLabel] !== 'normal') throw new DatasetError(`${csvPath}: label '${r[cLabel]}' for ${r[cImage]} is neither normal nor anomaly`);
    const maskPath = anomalous && r[cMask] ? join(root, r[cMask]) : undefined;
    if (anomalous && (!maskPath || !existsSync(maskPath))) throw new DatasetError(`${path}: no ground-truth mask (${maskPath ?? 'none listed'})`);
    const sample: Sample = { path, label: anomalous ? 1 : 0, defectType: anomalous ? 'bad' : 'good', maskPath };
    if (r[cSplit] === 'train') {
      if (anomalous) throw new DatasetError(`${csvPath}: anomalous image ${r[cImage]} in the train split`);
      train.push(sample);
    } else if (r[cSplit] === 'test') test.push(sample);
    else throw new DatasetError(`${csvPath}: split '${r[cSplit]}' for ${r[cImage]} is neither train nor test`);
  });
  if (train.length === 0) throw new DatasetError(`${csvPath}: no training images for '${category}'`);
  return { format: 'visa', root, category, train, test, hasMasks: true };
}
