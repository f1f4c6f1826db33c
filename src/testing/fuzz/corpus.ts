/**
 * The seeded fuzz corpus of issue 11: bad images, masks, dataset layouts, model folders, weights and
 * checkpoints, backbone manifests and configs, each in its own folder, made from valid files by
 * the mutations in mutate.ts and by hand-picked lies (sizes, shapes, paths). The same seed writes
 * the same corpus.
 */
import type { HeadParams } from '../../heads/params.js';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { encodeSafetensors } from '../../io/safetensors.js';
import { loadModel } from '../../model/modelDir.js';
import { saveCheckpoint } from '../../training/checkpoint.js';
import { legacyPth, zipPth, type CraftTensor } from '../../weights/__tests__/craftPth.js';
import { parse as parseYaml } from 'yaml';
import { mergeConfig } from '../../model/config.js';
import { TINY_CONFIG } from '../fixtures.js';
import type { FuzzCase } from './cases.js';
import { mutate, Rand } from './mutate.js';
import { BAD_VALUES, CONFIG_FIELDS, MANIFEST_FIELDS, setPath } from './values.js';

export interface FuzzBase {
  /** A trained tiny model folder, a tiny MVTec-layout dataset root (category 'widget'), the tiny backbone's manifest. */
  model: string;
  data: string;
  manifest: string;
  image: string;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function baseImages(): Promise<{ ext: string; bytes: Uint8Array }[]> {
  const px = Buffer.alloc(24 * 24 * 3, 0).map((_, i) => (i * 37) % 251);
  const rgb = () => sharp(px, { raw: { width: 24, height: 24, channels: 3 } });
  const out = [
    { ext: 'png', bytes: await rgb().png().toBuffer() },
    { ext: 'png', bytes: await rgb().grayscale().png().toBuffer() },
    {
      ext: 'png',
      bytes: await rgb()
        .ensureAlpha()
        .png({ bitdepth: 16 } as Parameters<ReturnType<typeof sharp>['png']>[0])
        .toBuffer(),
    },
    { ext: 'jpg', bytes: await rgb().jpeg().toBuffer() },
    { ext: 'tiff', bytes: await rgb().tiff().toBuffer() },
    { ext: 'webp', bytes: await rgb().webp().toBuffer() },
    { ext: 'gif', bytes: await rgb().gif().toBuffer() },
  ];
  return out.map((o) => ({ ext: o.ext, bytes: new Uint8Array(o.bytes) }));
}

/** A PNG whose header declares `w`×`h` (valid CRC) and whose data is a few bytes: a decompression bomb's first line. */
function pngDeclaring(valid: Uint8Array, w: number, h: number): Uint8Array {
  const out = valid.slice();
  const dv = new DataView(out.buffer);
  dv.setUint32(16, w);
  dv.setUint32(20, h);
  // IHDR's CRC covers its type and data (bytes 12..29).
  dv.setUint32(29, crc32(out.subarray(12, 29)) >>> 0);
  return out;
}

export class CorpusWriter {
  readonly cases: FuzzCase[] = [];
  private readonly r: Rand;

  constructor(
    readonly root: string,
    readonly base: FuzzBase,
    seed: number,
  ) {
    this.r = new Rand(seed);
    // Made here, without `recursive`, so an existing folder is refused: everything under the
    // corpus root, the only place rmrf deletes in, is then something this writer made.
    mkdirSync(resolve(root, '..'), { recursive: true });
    mkdirSync(root);
    corpusRoot = resolve(root);
  }

  private caseDir(family: string): { id: string; dir: string } {
    const id = `${family}-${String(this.cases.filter((c) => c.family === family).length).padStart(3, '0')}`;
    const dir = join(this.root, id);
    mkdirSync(dir);
    return { id, dir };
  }

  private add(c: FuzzCase): void {
    this.cases.push(c);
  }

  async images(n: number): Promise<void> {
    const bases = await baseImages();
    for (let i = 0; i < n; i++) {
      const { id, dir } = this.caseDir('image');
      const b = this.r.pick(bases);
      let bytes: Uint8Array;
      let how: string;
      const special = this.r.next();
      if (special < 0.06)
        [bytes, how] = [pngDeclaring(bases[0].bytes, this.r.pick([100000, 65535, 30000]), this.r.pick([100000, 65535, 30000])), 'png declaring a huge size'];
      else ({ bytes, how } = mutate(b.bytes, this.r));
      const ext = this.r.next() < 0.15 ? this.r.pick(['png', 'jpg', 'bmp', 'tif']) : b.ext;
      const path = join(dir, `img.${ext}`);
      writeFileSync(path, bytes);
      this.add({
        id,
        family: 'image',
        how: `${b.ext} ${how} as .${ext}`,
        dir,
        entry: this.r.next() < 0.25 ? { kind: 'loadMask', path } : { kind: 'decodeImage', path },
      });
    }
    // Not files at all.
    const { id, dir } = this.caseDir('image');
    mkdirSync(join(dir, 'folder.png'));
    this.add({ id, family: 'image', how: 'a folder named .png', dir, entry: { kind: 'decodeImage', path: join(dir, 'folder.png') } });
    const dangling = this.caseDir('image');
    symlinkSync(join(dangling.dir, 'nowhere.png'), join(dangling.dir, 'link.png'));
    this.add({ ...dangling, family: 'image', how: 'a dangling symlink', entry: { kind: 'decodeImage', path: join(dangling.dir, 'link.png') } });
  }

  /** Damaged copies of the tiny MVTec layout (and VisA / folder specs) for loadDataset. */
  datasets(n: number): void {
    const ops: [string, (cat: string, dir: string) => void][] = [
      ['no train/good', (c) => rmrf(join(c, 'train/good'))],
      ['empty train/good', (c) => replaceWith(join(c, 'train/good'), 'folder')],
      ['train is a file', (c) => replaceWith(join(c, 'train'), 'file')],
      ['no ground_truth', (c) => rmrf(join(c, 'ground_truth'))],
      ['a mask missing', (c) => rmrf(join(c, 'ground_truth/spot/001_mask.png'))],
      ['no test', (c) => rmrf(join(c, 'test'))],
      ['test/good is a file', (c) => replaceWith(join(c, 'test/good'), 'file')],
      ['symlink loop in train', (c) => symlinkSync('..', join(c, 'train/good/loop'))],
      ['garbage image in train', (c) => writeFileSync(join(c, 'train/good/000.png'), 'not a png')],
      ['a mask is a folder', (c) => replaceWith(join(c, 'ground_truth/spot/002_mask.png'), 'folder')],
      ['extra defect type without masks', (c) => cpSync(join(c, 'test/spot'), join(c, 'test/crack'), { recursive: true })],
      ['no category folder', (c) => rmrf(c)],
      ['category is a file', (c) => replaceWith(c, 'file')],
    ];
    for (let i = 0; i < n; i++) {
      const { id, dir } = this.caseDir('dataset');
      const kind = this.r.next();
      if (kind < 0.55) {
        const [how, op] = this.r.pick(ops);
        cpSync(join(this.base.data, 'widget'), join(dir, 'widget'), { recursive: true });
        op(join(dir, 'widget'), dir);
        this.add({ id, family: 'dataset', how, dir, entry: { kind: 'loadDataset', spec: { format: 'mvtec', root: dir, category: 'widget' } } });
      } else if (kind < 0.85) {
        const how = this.visaCsv(dir);
        this.add({ id, family: 'dataset', how, dir, entry: { kind: 'loadDataset', spec: { format: 'visa', root: dir, category: 'widget' } } });
      } else {
        const good = join(dir, this.r.pick(['good', 'missing']));
        if (good.endsWith('good')) cpSync(join(this.base.data, 'widget/train/good'), good, { recursive: true });
        const bad = this.r.next() < 0.5 ? join(dir, 'good') : join(dir, 'nope');
        this.add({
          id,
          family: 'dataset',
          how: `folder spec, good ${good.slice(dir.length)}, defective ${bad.slice(dir.length)}`,
          dir,
          entry: { kind: 'loadDataset', spec: { format: 'folder', normalDir: good, abnormalDirs: [bad] } },
        });
      }
    }
  }

  private visaCsv(dir: string): string {
    mkdirSync(join(dir, 'split_csv'));
    mkdirSync(join(dir, 'widget/Images'), { recursive: true });
    writeFileSync(join(dir, 'widget/Images/a.png'), readFileSync(this.base.image));
    const rows = ['object,split,label,image,mask', 'widget,train,normal,widget/Images/a.png,', 'widget,test,anomaly,widget/Images/a.png,widget/Images/a.png'];
    const lies = [
      'widget,train,normal,../../../etc/passwd,',
      'widget,test,anomaly,/etc/hostname,/etc/hostname',
      'widget,train,anomaly,widget/Images/a.png,',
      'widget,valid,normal,widget/Images/a.png,',
      'widget,test,anomaly,widget/Images/a.png,',
      'widget,train,normal,widget/Images/missing.png,',
      'widget,"train",normal',
      '',
      ',,,,',
      'widget,test,anomaly,widget/Images/a.png,../../x.png',
    ];
    const how = this.r.pick(['lie', 'header', 'bytes', 'lie']);
    if (how === 'lie') rows.push(this.r.pick(lies));
    if (how === 'header') rows[0] = this.r.pick(['object,split,label,image', 'image,mask', '', 'a,b,c,d,e']);
    let text = rows.join('\n');
    if (how === 'bytes') text = new TextDecoder().decode(mutate(new TextEncoder().encode(text), this.r).bytes);
    writeFileSync(join(dir, 'split_csv/1cls.csv'), text);
    return `visa csv: ${how}`;
  }

  /** Copies of the tiny model with one file damaged; the sha256 in simplenet.json is fixed half the time so the deeper readers run. */
  modelDirs(n: number): void {
    for (let i = 0; i < n; i++) {
      const { id, dir } = this.caseDir('model');
      const model = join(dir, 'm');
      cpSync(this.base.model, model, { recursive: true });
      const manifestPath = join(model, 'simplenet.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      const file = this.r.pick(['simplenet.json', 'simplenet.json', 'heads.safetensors', 'backbone.onnx', 'training_log.csv']);
      let how: string;
      if (file === 'simplenet.json' && this.r.next() < 0.6) {
        const field = this.r.pick(MANIFEST_FIELDS);
        const value = this.r.pick(BAD_VALUES);
        setPath(manifest, field, value);
        writeFileSync(manifestPath, JSON.stringify(manifest));
        how = `simplenet.json ${field} = ${JSON.stringify(value)?.slice(0, 40)}`;
      } else {
        const path = join(model, file);
        const m = mutate(new Uint8Array(readFileSync(path)), this.r);
        writeFileSync(path, m.bytes);
        how = `${file} ${m.how}`;
        const fix = file !== 'simplenet.json' && this.r.next() < 0.5;
        if (fix && file === 'heads.safetensors') manifest.heads.sha256 = sha(m.bytes);
        if (fix && file === 'backbone.onnx') manifest.backbone.sha256 = sha(m.bytes);
        if (fix) writeFileSync(manifestPath, JSON.stringify(manifest));
        if (fix) how += ' (sha256 fixed)';
      }
      this.add({ id, family: 'model', how, dir, entry: { kind: 'scoreWithModel', model, image: this.base.image } });
    }
  }

  /** torch.save files (zip and legacy) and safetensors: valid ones mutated, and structured lies about sizes. */
  weights(n: number): void {
    const floats = (k: number) => new Uint8Array(new Float32Array(k).map((_, i) => i / 7).buffer);
    const honest: CraftTensor[] = [
      { name: 'conv1.weight', storage: '0', numel: 24, size: [2, 3, 2, 2], stride: [12, 4, 2, 1] },
      { name: 'bn1.bias', storage: '1', numel: 2, size: [2], stride: [1] },
    ];
    const storages = [
      { name: 'data/0', data: floats(24) },
      { name: 'data/1', data: floats(2) },
    ];
    const valid = [
      { ext: 'pth', bytes: zipPth(honest, storages) },
      {
        ext: 'pth',
        bytes: legacyPth(honest, [
          { key: '0', count: 24, data: floats(24) },
          { key: '1', count: 2, data: floats(2) },
        ]),
      },
      { ext: 'safetensors', bytes: encodeSafetensors({ 'conv1.weight': { dtype: 'float32', dims: [2, 3, 2, 2], data: new Float32Array(24) } }) },
    ];
    for (let i = 0; i < n; i++) {
      const { id, dir } = this.caseDir('weights');
      let bytes: Uint8Array;
      let how: string;
      let ext = 'pth';
      if (this.r.next() < 0.3) {
        const big = this.r.pick([0, 1, 16384, 100000, 2 ** 31, 2 ** 40]);
        const lie: CraftTensor = {
          name: 'conv1.weight',
          storage: '0',
          numel: this.r.pick([24, 0, big]),
          size: [big, this.r.pick([1, big])],
          stride: [this.r.pick([0, 1, big]), this.r.pick([0, 1])],
          offset: this.r.pick([0, 0, big]),
        };
        bytes = this.r.next() < 0.5 ? zipPth([lie], [storages[0]]) : legacyPth([lie], [{ key: '0', count: this.r.pick([24, big]), data: floats(24) }]);
        how = `declares ${JSON.stringify(lie)}`;
      } else {
        const v = this.r.pick(valid);
        ext = v.ext;
        ({ bytes, how } = mutate(v.bytes, this.r));
        how = `${v.ext} ${how}`;
      }
      const path = join(dir, `w.${ext}`);
      writeFileSync(path, bytes);
      this.add({ id, family: 'weights', how, dir, entry: { kind: 'loadWeights', path, ...(this.r.next() < 0.4 ? { arch: 'resnet18' as const } : {}) } });
    }
  }

  async checkpoints(n: number): Promise<void> {
    const { params } = await loadModel(this.base.model);
    const valid = join(this.root, 'valid.checkpoint');
    const zeros = Object.fromEntries(Object.entries(params).map(([k, t]) => [k, { ...t, data: new Float32Array(t.data.length) }]));
    await saveCheckpoint(valid, {
      epoch: 2,
      fingerprint: 'f',
      rng: [1, 2, 3, 4],
      order: [0, 1],
      log: [],
      resumedAt: [],
      params: params as HeadParams,
      optimizer: { step: 4, tensors: zeros as never },
    });
    const bytes = new Uint8Array(readFileSync(valid));
    for (let i = 0; i < n; i++) {
      const { id, dir } = this.caseDir('checkpoint');
      const m = mutate(bytes, this.r);
      const path = join(dir, 'm.checkpoint');
      writeFileSync(path, m.bytes);
      this.add({ id, family: 'checkpoint', how: m.how, dir, entry: { kind: 'loadCheckpoint', path } });
    }
  }

  /** Backbone manifests with one bad field, or damaged bytes. */
  manifests(n: number): void {
    const text = readFileSync(this.base.manifest, 'utf8');
    const onnxPath = join(this.base.manifest, '..', JSON.parse(text).onnx);
    for (let i = 0; i < n; i++) {
      const { id, dir } = this.caseDir('manifest');
      const m = JSON.parse(text);
      m.onnx = onnxPath;
      let how: string;
      let out: string | Uint8Array;
      if (this.r.next() < 0.7) {
        const field = this.r.pick(MANIFEST_BACKBONE_FIELDS);
        const value = this.r.pick(BAD_VALUES);
        setPath(m, field, value);
        out = JSON.stringify(m);
        how = `${field} = ${JSON.stringify(value)?.slice(0, 40)}`;
      } else {
        const mm = mutate(new TextEncoder().encode(JSON.stringify(m)), this.r);
        [out, how] = [mm.bytes, mm.how];
      }
      const path = join(dir, 'backbone.json');
      writeFileSync(path, out);
      this.add({ id, family: 'manifest', how, dir, entry: { kind: 'backboneManifest', path } });
    }
  }

  configs(n: number): void {
    for (let i = 0; i < n; i++) {
      const { id, dir } = this.caseDir('config');
      const yaml = this.r.next() < 0.3;
      const field = this.r.pick(CONFIG_FIELDS);
      const value = this.r.pick(BAD_VALUES);
      const c: Record<string, unknown> = {};
      setPath(c, field, value);
      let text = yaml
        ? `${field
            .split('.')
            .map((k, d) => `${'  '.repeat(d)}${k}:`)
            .join('\n')} ${JSON.stringify(value) ?? '~'}\n`
        : JSON.stringify(c);
      let how = `${field} = ${JSON.stringify(value)?.slice(0, 40)}`;
      if (this.r.next() < 0.25) {
        const m = mutate(new TextEncoder().encode(text), this.r);
        text = new TextDecoder().decode(m.bytes);
        how += `, then ${m.how}`;
      }
      const path = join(dir, yaml ? 'c.yaml' : 'c.json');
      writeFileSync(path, text);
      this.add({ id, family: 'config', how, dir, entry: { kind: 'config', path } });
    }
  }

  /** The same kinds of input through the command line: exit codes and stderr as a user sees them. */
  cli(): void {
    const pick = (family: string, k: number) => this.cases.filter((c) => c.family === family).slice(0, k);
    const add = (src: FuzzCase, args: string[], env?: Record<string, string>) =>
      this.add({ id: `cli-${src.id}`, family: 'cli', how: `${args[0]} on ${src.how}`, dir: src.dir, entry: { kind: 'cli', args, ...(env ? { env } : {}) } });
    const images = join(this.root, 'image-000', '..');
    this.add({
      id: 'cli-predict-all-images',
      family: 'cli',
      how: 'predict over every fuzzed image',
      dir: images,
      entry: {
        kind: 'cli',
        args: [
          'predict',
          '--model',
          this.base.model,
          '--json',
          ...this.cases.filter((c) => c.family === 'image').map((c) => (c.entry as { path: string }).path),
        ],
      },
    });
    for (const c of pick('dataset', 12)) {
      const spec = (c.entry as { spec: { format: string; root: string } }).spec;
      if (spec.format === 'folder') continue;
      add(c, ['test', '--model', this.base.model, '--format', spec.format, '--data', spec.root, '--category', 'widget', '--quiet']);
    }
    for (const c of pick('model', 14)) add(c, ['predict', '--model', (c.entry as { model: string }).model, this.base.image, '--quiet']);
    for (const c of pick('weights', 8))
      add(c, ['weights', 'import', (c.entry as { path: string }).path, '--name', 'resnet18'], { SIMPLENET_HOME: join(c.dir, 'home') });
    for (const c of pick('manifest', 6))
      add(c, ['embed', '--backbone', (c.entry as { path: string }).path, '--image', this.base.image, '--out', join(c.dir, 'f.npy')]);
    for (const c of pick('config', 6)) {
      // Over the tiny config, so that a config that turns out valid trains in a second at the tiny
      // size (the defaults' 288² and 1536 dims on the tiny backbone would not be a bad input).
      const path = (c.entry as { path: string }).path;
      const text = readFileSync(path, 'utf8');
      let parsed: unknown;
      try {
        parsed = path.endsWith('.yaml') ? parseYaml(text) : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const cliConfig = join(c.dir, `cli${path.endsWith('.yaml') ? '.yaml' : '.json'}`);
      writeFileSync(cliConfig, parsed === undefined ? text : JSON.stringify(mergeConfig(TINY_CONFIG, parsed)));
      add(c, [
        'train',
        '--data',
        this.base.data,
        '--category',
        'widget',
        '--backbone',
        this.base.manifest,
        '--config',
        cliConfig,
        '--epochs',
        '1',
        '--quiet',
        '--out',
        join(c.dir, 'model'),
      ]);
    }
  }
}

const MANIFEST_BACKBONE_FIELDS = ['onnx', 'input', 'mean', 'std', 'layers', 'mean.1', 'layers.0', 'std.2', 'description', 'extra'];

/** The corpus folder of the writer in use: the one place rmrf may delete in. */
let corpusRoot = '';

/** Deletes a copy the corpus made; refuses any path outside the corpus folder. */
function rmrf(p: string): void {
  const rel = relative(corpusRoot, resolve(p));
  if (!corpusRoot || rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`fuzz corpus: refusing to delete ${p} outside ${corpusRoot}`);
  rmSync(p, { recursive: true, force: true });
}

function replaceWith(p: string, what: 'file' | 'folder'): void {
  rmrf(p);
  if (what === 'file') writeFileSync(p, 'x');
  else mkdirSync(p);
}
