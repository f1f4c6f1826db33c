/**
 * predict, test and export on awkward inputs and broken models (issue 11, rows 7–9): non-finite
 * weights and scores are errors naming the file or the image, symbolic links are followed, and
 * the tab-separated output keeps one row per image whatever the file names hold.
 */
import type { HeadParams } from '../../heads/params.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportModelBytes } from '../../export/exportModel.js';
import { decodeSafetensors, encodeSafetensors } from '../../io/safetensors.js';
import { loadModel } from '../../model/modelDir.js';
import { runCli } from '../../testing/cli.js';
import { makeTinyBackbone, makeTinyDataset, TINY_CONFIG } from '../../testing/fixtures.js';
import { EXIT_SOME_FAILED } from '../predictCommand.js';
import { testTempDir } from '../../testing/tempDir.js';

const simplenet = (...args: string[]) => runCli(args);

describe('predict, test and export on hostile names and broken models', () => {
  const dir = testTempDir('simplenet-hostile-');
  after(() => rmSync(dir, { recursive: true, force: true }));
  const data = join(dir, 'data');
  const model = join(dir, 'model');
  const good = (i: number) => join(data, 'widget/test/good', `00${i}.png`);

  before(async () => {
    await makeTinyDataset(data);
    const manifest = makeTinyBackbone(join(dir, 'backbone'));
    const config = join(dir, 'tiny.json');
    writeFileSync(config, JSON.stringify(TINY_CONFIG));
    const r = simplenet('train', '--data', data, '--category', 'widget', '--backbone', manifest, '--config', config, '--quiet', '--out', model);
    assert.equal(r.code, 0, r.stderr);
  });

  /** A copy of the model with edited head tensors, its sha256 in simplenet.json updated to match. */
  function withHeads(name: string, edit: (t: Map<string, Float32Array>) => void): { dir: string; heads: string } {
    const out = join(dir, name);
    cpSync(model, out, { recursive: true });
    const manifestPath = join(out, 'simplenet.json');
    const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const heads = join(out, m.heads.file);
    const { tensors } = decodeSafetensors(readFileSync(heads), heads);
    edit(new Map([...tensors].map(([k, t]) => [k, t.data as Float32Array])));
    const bytes = encodeSafetensors(Object.fromEntries(tensors));
    writeFileSync(heads, bytes);
    m.heads.sha256 = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(manifestPath, JSON.stringify(m));
    return { dir: out, heads };
  }

  const oneLine = (stderr: string) => assert.equal(stderr.trim().split('\n').length, 1, stderr);

  test('rows stay one per image: a name with a newline is a JSON string literal; links to images and folders are followed', () => {
    const imgs = join(dir, 'imgs');
    mkdirSync(imgs);
    copyFileSync(good(0), join(imgs, 'a\nb.png'));
    copyFileSync(good(1), join(imgs, 'plain.png'));
    symlinkSync(join(data, 'widget/test/spot/000.png'), join(imgs, 'linked.png'));
    symlinkSync(join(data, 'widget/test/good'), join(imgs, 'sub'));
    const r = simplenet('predict', '--model', model, imgs, '--quiet');
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split('\n');
    assert.equal(rows[0], 'path\tscore\tscore_normalized\tlabel');
    const paths = rows.slice(1).map((row) => {
      const f = row.split('\t');
      assert.equal(f.length, 4, row);
      assert.match(f[3], /^(normal|anomalous)$/);
      return f[0].startsWith('"') ? JSON.parse(f[0]) : f[0];
    });
    assert.deepEqual(
      paths,
      ['a\nb.png', 'linked.png', 'plain.png', 'sub/000.png', 'sub/001.png'].map((n) => join(imgs, n)),
    );
    assert.ok(rows[1].startsWith(`${JSON.stringify(join(imgs, 'a\nb.png'))}\t`), rows[1]);

    // A dangling link is named as a failed image; the others are still scored.
    const dead = join(imgs, 'dead.png');
    symlinkSync(join(dir, 'nowhere.png'), dead);
    const d = simplenet('predict', '--model', model, imgs, '--quiet');
    assert.equal(d.code, EXIT_SOME_FAILED, d.stderr);
    assert.match(d.stderr, new RegExp(`${dead.replace(/[/.]/g, '\\$&')}: cannot read image: no such file or folder \\(ENOENT\\)`));
    assert.equal(d.stdout.trim().split('\n').length, 6);
  });

  test('a NaN in heads.safetensors: predict, test and export refuse the model, naming the file and the tensor', () => {
    const { dir: nan, heads } = withHeads('model-nan', (t) => {
      t.get('discriminator.fc1.weight')![3] = Number.NaN;
    });
    const message = `simplenet: ${heads}: tensor 'discriminator.fc1.weight' holds NaN at element 3; a model with non-finite weights cannot score (retrain it)\n`;
    const p = simplenet('predict', '--model', nan, good(0), '--quiet');
    assert.equal(p.code, 1);
    assert.equal(p.stderr, message);
    assert.equal(p.stdout, '');
    const t = simplenet('test', '--model', nan, '--data', data, '--category', 'widget', '--quiet');
    assert.equal(t.code, 1);
    assert.equal(t.stderr, message);
    const onnx = join(dir, 'nan.onnx');
    const e = simplenet('export', '--model', nan, '--out', onnx);
    assert.equal(e.code, 1);
    assert.equal(e.stderr, message);
    assert.equal(existsSync(onnx), false);
  });

  test('finite weights that overflow: the image is reported as failed, never labelled; test names the image', () => {
    const { dir: inf } = withHeads('model-inf', (t) => {
      // After the BatchNorm every hidden unit is 10, so the last layer sums 8 × 3e38 × 10: beyond float32.
      t.get('discriminator.bn.weight')!.fill(0);
      t.get('discriminator.bn.bias')!.fill(10);
      t.get('discriminator.fc2.weight')!.fill(3e38);
    });
    const p = simplenet('predict', '--model', inf, good(0), good(1));
    assert.equal(p.code, EXIT_SOME_FAILED, p.stderr);
    assert.equal(p.stdout, 'path\tscore\tscore_normalized\tlabel\n');
    const lines = p.stderr.split('\n').filter((l) => l.startsWith('simplenet: '));
    assert.match(lines[0], new RegExp(`^simplenet: ${good(0).replace(/[/.]/g, '\\$&')}: model .*model-inf gives a non-finite score -?Infinity for this image`));
    assert.equal(lines.at(-1), 'simplenet: 2 of 2 images could not be scored');
    const t = simplenet('test', '--model', inf, '--data', data, '--category', 'widget', '--quiet');
    assert.equal(t.code, 1);
    oneLine(t.stderr);
    assert.match(t.stderr, /^simplenet: .*widget\/test\/\w+\/000\.png: model .*model-inf gives a non-finite score/);
  });

  test('export refuses non-finite weights, naming the model', async () => {
    const m = await loadModel(model);
    (m.params as HeadParams)['discriminator.fc2.weight'].data[0] = Number.POSITIVE_INFINITY;
    await assert.rejects(
      exportModelBytes(m, { calibration: m.manifest.scoring! }),
      new RegExp(`^Error: ${model.replace(/[/.]/g, '\\$&')}: cannot export: weight '[^']+' holds Infinity at element 0; the model is damaged; retrain it$`),
    );
  });
});
