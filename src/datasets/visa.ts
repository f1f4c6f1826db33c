/**
 * VisA through its official one-class split, `<root>/split_csv/1cls.csv` (columns object, split,
 * label, image, mask; paths relative to the root), as GLASS, anomalib and SuperSimpleNet read it.
 * Every path in the CSV must stay inside the root (no absolute paths, no `..` leading out), so a
 * crafted CSV cannot make training or a report read files elsewhere. The check is on the path as
 * written, not through symbolic links: a root whose folders are links to another disk stays usable.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { type AnomalyDataset, DatasetError, type Sample } from './dataset.js';

interface CsvRow {
  /** 1-based line in the file. */
  line: number;
  cells: string[];
}

function parseCsv(text: string): CsvRow[] {
  return text
    .split(/\r?\n/)
    .map((l, i) => ({ line: i + 1, cells: l.split(',').map((c) => c.trim()) }))
    .filter((r) => r.cells.join('').length > 0);
}

/** `<root>/<rel>`, or a DatasetError naming the CSV, its line and the path when `rel` leads outside the root. */
function inside(root: string, rel: string | undefined, csvPath: string, line: number): string {
  if (!rel) throw new DatasetError(`${csvPath}: line ${line}: no image path`);
  const path = join(root, rel);
  const back = relative(resolve(root), resolve(path));
  if (isAbsolute(rel) || back === '..' || back.startsWith(`..${sep}`) || isAbsolute(back)) {
    throw new DatasetError(`${csvPath}: line ${line}: path '${rel}' leads outside the dataset root ${root}; VisA paths must be relative to it`);
  }
  return path;
}

export async function loadVisa(root: string, category: string): Promise<AnomalyDataset> {
  const csvPath = join(root, 'split_csv', '1cls.csv');
  if (!existsSync(csvPath)) throw new DatasetError(`${csvPath}: missing (VisA needs its split_csv/1cls.csv)`);
  const [head, ...lines] = parseCsv(await readFile(csvPath, 'utf8'));
  const header = head?.cells;
  const col = (name: string) => {
    const i = header?.indexOf(name) ?? -1;
    if (i < 0) throw new DatasetError(`${csvPath}: no '${name}' column (header: ${header?.join(',')})`);
    return i;
  };
  const [cObject, cSplit, cLabel, cImage, cMask] = ['object', 'split', 'label', 'image', 'mask'].map(col);
  const mine = lines.filter((r) => r.cells[cObject] === category);
  if (mine.length === 0) {
    const known = [...new Set(lines.map((r) => r.cells[cObject]))].sort();
    throw new DatasetError(`${csvPath}: unknown category '${category}' (found: ${known.join(', ')})`);
  }
  const train: Sample[] = [];
  const test: Sample[] = [];
  mine.forEach(({ line, cells: r }) => {
    const path = inside(root, r[cImage], csvPath, line);
    if (!existsSync(path)) throw new DatasetError(`${path}: listed in ${csvPath} (line ${line}) but missing`);
    const anomalous = r[cLabel] === 'anomaly';
    if (!anomalous && r[cLabel] !== 'normal') throw new DatasetError(`${csvPath}: label '${r[cLabel]}' for ${r[cImage]} is neither normal nor anomaly`);
    const maskPath = anomalous && r[cMask] ? inside(root, r[cMask], csvPath, line) : undefined;
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
