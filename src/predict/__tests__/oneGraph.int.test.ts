/**
 * Issue 5: `test`, `predict` and the exported model run one scoring graph and agree; the folded
 * graph agrees with the unfolded reference; the export loads in onnxruntime-node and -web; any
 * image size, grey and RGBA images score; unreadable files are reported without stopping a run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { decodeImage } from '../../images/decode.js';
import { MAX_EXACT_DOWNSCALE } from '../../images/fit.js';
import { decodeNpy } from '../../io/npy.js';
import { loadModel } from '../../model/modelDir.js';
import { decodeModel } from '../../onnx/decode.js';
import { normalizeScore, pixelCalibration, quantileSorted } from '../../model/calibration.js';
import { Scorer } from '../../scoring/scorer.js';
import { REPO_ROOT } from '../../testing/golden.js';
import { makeTinyBackbone, makeTinyDataset, TINY_CONFIG } from '../../testing/fixtures.js';
import { testTempDir } from '../../testing/tempDir.js';

const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');

function simplenet(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const relClose = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b), 1e-12);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function runExported(session: ort.InferenceSession, path: string) {
  const im = await decodeImage(path);
  const out = await session.run({ image: new ort.Tensor('uint8', im.data, [1, im.height, im.width, 3]) });
  return {
    score: (out.score.data as Float32Array)[0],
    normalized: (out.score_normalized.data as Float32Array)[0],
    label: Number((out.label.data as BigInt64Array)[0]),
    map: out.anomaly_map.data as Float32Array,
  };
}

describe('one scoring graph: test = predict = export', () => {
  const dir = testTempDir('simplenet-onegraph-');
  const data = join(dir, 'data');
  const model = join(dir, 'model');
  const testImages = ['good/000.png', 'good/001.png', 'spot/000.png', 'spot/001.png', 'spot/002.png'].map((p) => join(data, 'widget/test', p));
  before(async () => {
    await makeTinyDataset(data);
    const manifest = makeTinyBackbone(join(dir, 'backbone'));
    writeFileSync(join(dir, 'tiny.json'), JSON.stringify(TINY_CONFIG));
    // The paper's rule: validation on one held-out tiny image could pick any epoch, and the checks below want a detector.
    const r = simplenet(
      'train',
      '--data',
      data,
      '--category',
      'widget',
      '--backbone',
      manifest,
      '--config',
      join(dir, 'tiny.json'),
      '--quiet',
      '--out',
      model,
      '--preset',
      'paper',
    );
    assert.equal(r.code, 0, r.stderr);
  });

  test('training stores thresholds from held-out good training images (numpy quantiles of their scores)', async () => {
    const m = await loadModel(model);
    const c = m.manifest.scoring!;
    assert.equal(c.thresholdSource, 'validation-quantile');
    const held = m.manifest.training.validation!.images;
    assert.equal(held.length, 1);
    const scorer = await Scorer.fromModel(m);
    const scores: number[] = [];
    const mapMax: number[] = [];
    for (const p of held) {
      const r = await scorer.score([await decodeImage(p)]);
      scores.push(r.scores[0]);
      mapMax.push(Math.max(...r.maps));
      const { threshold, range } = pixelCalibration(c);
      const expected = r.maps.map((v) => Math.min(1, Math.max(0, (v - threshold) / range + 0.5)));
      assert.ok(maxAbsDiff(r.mapsNormalized, expected) < 1e-6);
    }
    await scorer.release();
    // One held-out image: every quantile is its score.
    assert.ok(relClose(c.imageThreshold, quantileSorted(scores.sort(), 0.995), 1e-6), `${c.imageThreshold} vs ${scores}`);
    assert.ok(relClose(c.pixelThreshold!, quantileSorted(mapMax.sort(), 0.995), 1e-6));
  });

  test('--val-fraction 0 trains on every image and thresholds at their maximum (train-max)', async () => {
    const out = join(dir, 'model-all');
    const r = simplenet(
      'train',
      '--data',
      data,
      '--category',
      'widget',
      '--backbone',
      join(dir, 'backbone', 'tiny.json'),
      '--config',
      join(dir, 'tiny.json'),
      '--val-fraction',
      '0',
      '--quiet',
      '--out',
      out,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^warning: no held-out good images \(--val-fraction 0\): the threshold falls back/m);
    const m = await loadModel(out);
    const c = m.manifest.scoring!;
    assert.equal(c.thresholdSource, 'train-max');
    assert.equal(m.manifest.training.validation, undefined);
    assert.equal(c.imageThreshold, c.max);
    // Rescoring the training images through the scoring graph gives (nearly) the same maximum.
    const scorer = await Scorer.fromModel(m);
    const train = Array.from({ length: 6 }, (_, i) => join(data, 'widget/train/good', `${String(i).padStart(3, '0')}.png`));
    let max = -Infinity;
    for (const p of train) max = Math.max(max, (await scorer.score([await decodeImage(p)])).scores[0]);
    await scorer.release();
    assert.ok(relClose(max, c.max, 1e-4), `${max} vs ${c.max}`);
  });

  test('per-image scores and maps agree across test, predict and the exported model', async () => {
    const metrics = join(dir, 'metrics.json');
    const t = simplenet('test', '--model', model, '--data', data, '--category', 'widget', '--json', metrics, '--quiet');
    assert.equal(t.code, 0, t.stderr);
    const testScores = new Map<string, number>(JSON.parse(readFileSync(metrics, 'utf8')).images.map((i: { path: string; score: number }) => [i.path, i.score]));

    const out = join(dir, 'pred');
    const p = simplenet('predict', '--model', model, join(data, 'widget/test'), '--json', '--quiet', '--out', out);
    assert.equal(p.code, 0, p.stderr);
    const predicted = p.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(predicted.length, 5);

    const onnx = join(dir, 'exported.onnx');
    const e = simplenet('export', '--model', model, '--out', onnx, '--quiet');
    assert.equal(e.code, 0, e.stderr);
    const session = await ort.InferenceSession.create(onnx);
    const calibration = (await loadModel(model)).manifest.scoring!;
    for (const path of testImages) {
      const pr = predicted.find((x) => x.path === path);
      assert.ok(pr, `predict printed ${path}`);
      const ts = testScores.get(path)!;
      const ex = await runExported(session, path);
      assert.ok(relClose(pr.score, ts, 1e-5), `predict ${pr.score} vs test ${ts}`);
      assert.ok(relClose(ex.score, ts, 1e-5), `export ${ex.score} vs test ${ts}`);
      assert.ok(Math.abs(pr.score_normalized - normalizeScore(pr.score, calibration)) < 1e-6);
      assert.ok(Math.abs(ex.normalized - pr.score_normalized) < 1e-6);
      assert.equal(ex.label, pr.label);
      assert.equal(pr.label, pr.score > calibration.imageThreshold ? 1 : 0);
      const map = decodeNpy(readFileSync(pr.map));
      assert.deepEqual(map.dims, [32, 32]);
      assert.ok(maxAbsDiff(map.data as Float32Array, ex.map) <= 1e-4);
      const overlay = await sharp(pr.overlay).metadata();
      assert.deepEqual([overlay.width, overlay.height, overlay.channels], [32, 32, 3]);
    }
    await session.release();
    // The defects are found: every spot image scores above every good one.
    const s = (n: string) => predicted.find((x) => x.path.endsWith(n)).score;
    assert.ok(Math.min(s('spot/000.png'), s('spot/001.png'), s('spot/002.png')) > Math.max(s('good/000.png'), s('good/001.png')));
  });

  test('the folded graph agrees with the unfolded reference (adaptor, Linear, BN, LeakyReLU, Linear)', async () => {
    const m = await loadModel(model);
    const folded = await Scorer.fromModel(m);
    const reference = await Scorer.fromModel(m, { fold: false });
    for (const path of testImages) {
      const im = await decodeImage(path);
      const a = await folded.score([im]);
      const b = await reference.score([im]);
      assert.ok(relClose(a.scores[0], b.scores[0], 1e-5), `${a.scores[0]} vs ${b.scores[0]}`);
      assert.ok(maxAbsDiff(a.maps, b.maps) <= 1e-5 * Math.max(...b.maps.map(Math.abs)));
    }
    await Promise.all([folded.release(), reference.release()]);
  });

  test('the export is one self-contained file with metadata, and runs the same in onnxruntime-web', async () => {
    const onnx = join(dir, 'exported.onnx');
    const bytes = new Uint8Array(readFileSync(onnx));
    const decoded = decodeModel(bytes, onnx);
    assert.deepEqual(decoded.graph.inputs, [{ name: 'image', dtype: 'uint8', shape: ['N', 'H', 'W', 3] }]);
    assert.deepEqual(
      decoded.graph.outputs.map((o) => o.name),
      ['score', 'score_normalized', 'label', 'anomaly_map', 'anomaly_map_normalized'],
    );
    const c = (await loadModel(model)).manifest.scoring!;
    assert.equal(Number(decoded.metadata.image_threshold), c.imageThreshold);
    assert.equal(decoded.metadata.threshold_source, 'validation-quantile');
    assert.equal(Number(decoded.metadata.pixel_threshold), c.pixelThreshold);
    assert.equal(JSON.parse(decoded.metadata.backbone).kind, 'onnx');
    for (const k of ['simplenet_version', 'score_min', 'score_max', 'normalization', 'preprocessing']) assert.ok(decoded.metadata[k], k);
    assert.equal(JSON.parse(decoded.metadata.preprocessing).exact_up_to_downscale, MAX_EXACT_DOWNSCALE);

    const ortWeb = await import('onnxruntime-web');
    ortWeb.env.wasm.numThreads = 1;
    const web = await ortWeb.InferenceSession.create(bytes);
    const native = await ort.InferenceSession.create(bytes);
    const im = await decodeImage(testImages[3]);
    const a = await native.run({ image: new ort.Tensor('uint8', im.data, [1, im.height, im.width, 3]) });
    const b = await web.run({ image: new ortWeb.Tensor('uint8', im.data, [1, im.height, im.width, 3]) });
    assert.ok(relClose((a.score.data as Float32Array)[0], (b.score.data as Float32Array)[0], 1e-5));
    assert.equal((a.label.data as BigInt64Array)[0], (b.label.data as BigInt64Array)[0]);
    assert.ok(maxAbsDiff(a.anomaly_map.data as Float32Array, b.anomaly_map.data as Float32Array) <= 1e-5);
    await Promise.all([web.release(), native.release()]);
  });

  test('--fp16 halves float weights inside the graph and scores nearly the same; --batch fixes N', async () => {
    const onnx = join(dir, 'fp16.onnx');
    const e = simplenet('export', '--model', model, '--out', onnx, '--fp16', '--batch', '2', '--quiet');
    assert.equal(e.code, 0, e.stderr);
    const decoded = decodeModel(new Uint8Array(readFileSync(onnx)));
    assert.deepEqual(decoded.graph.inputs[0].shape, [2, 'H', 'W', 3]);
    assert.ok(decoded.graph.initializers.some((i) => i.tensor.dtype === 'float16'));
    const session = await ort.InferenceSession.create(onnx);
    const im = await decodeImage(testImages[2]);
    const two = new Uint8Array(im.data.length * 2);
    two.set(im.data);
    two.set(im.data, im.data.length);
    const out = await session.run({ image: new ort.Tensor('uint8', two, [2, im.height, im.width, 3]) });
    const full = await ort.InferenceSession.create(join(dir, 'exported.onnx'));
    const ref = (await runExported(full, testImages[2])).score;
    const s = out.score.data as Float32Array;
    assert.equal(s[0], s[1]);
    assert.ok(relClose(s[0], ref, 2e-2), `${s[0]} vs ${ref}`);
    await Promise.all([session.release(), full.release()]);
  });

  test('any size, grey and RGBA images score; an unreadable file is reported and the rest still scored', async () => {
    const imgs = join(dir, 'sizes');
    mkdirSync(imgs, { recursive: true });
    const sizes: [number, number][] = [
      [100, 100],
      [900, 900],
      [600, 800],
      [2000, 1500],
    ];
    for (const [w, h] of sizes) {
      const px = Buffer.alloc(w * h * 3);
      for (let i = 0; i < px.length; i++) px[i] = (i * 7 + Math.floor(i / (w * 3)) * 3) % 256;
      await sharp(px, { raw: { width: w, height: h, channels: 3 } })
        .png()
        .toFile(join(imgs, `rgb_${w}x${h}.png`));
    }
    const grey = Buffer.alloc(120 * 90).map((_, i) => i % 200);
    await sharp(grey, { raw: { width: 120, height: 90, channels: 1 } })
      .png()
      .toFile(join(imgs, 'grey.png'));
    const rgba = Buffer.alloc(70 * 130 * 4).map((_, i) => (i * 13) % 256);
    await sharp(rgba, { raw: { width: 70, height: 130, channels: 4 } })
      .png()
      .toFile(join(imgs, 'rgba.png'));
    writeFileSync(join(imgs, 'broken.png'), 'not an image');

    const r = simplenet('predict', '--model', model, imgs, '--json', '--quiet');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /broken\.png: cannot decode image/);
    assert.match(r.stderr, /1 of 7 images could not be scored/);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.path.split('/').pop()).sort(), [
      'grey.png',
      'rgb_100x100.png',
      'rgb_2000x1500.png',
      'rgb_600x800.png',
      'rgb_900x900.png',
      'rgba.png',
    ]);
    for (const l of lines) {
      assert.ok(Number.isFinite(l.score), l.path);
      assert.ok(l.score_normalized >= 0 && l.score_normalized <= 1);
      assert.ok(l.label === 0 || l.label === 1);
    }
  });

  test('--threshold overrides the stored threshold; bad arguments are one-line errors', () => {
    const image = join(data, 'widget/test/spot/000.png');
    const r = simplenet('predict', '--model', model, image, '--json', '--quiet', '--threshold', '1e9');
    assert.equal(r.code, 0, r.stderr);
    const line = JSON.parse(r.stdout);
    assert.equal(line.label, 0);
    assert.equal(line.score_normalized, 0);
    const bad = simplenet('predict', '--model', model, image, '--threshold', 'high');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--threshold must be a number, got 'high'/);
    const missing = simplenet('predict', '--model', model, join(dir, 'nope.png'));
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /nope\.png: no such file or folder/);
  });

  test('a model dir without a stored calibration gets one recomputed from its training images, else needs --threshold', async () => {
    const legacy = join(dir, 'legacy');
    // A train-max model: the recomputation reproduces its stored threshold.
    cpSync(join(dir, 'model-all'), legacy, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(legacy, 'simplenet.json'), 'utf8'));
    const stored = manifest.scoring;
    delete manifest.scoring;
    writeFileSync(join(legacy, 'simplenet.json'), JSON.stringify(manifest));
    const image = join(data, 'widget/test/spot/001.png');
    const r = simplenet('predict', '--model', legacy, image, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no stored calibration; threshold recomputed from the training images/);
    assert.ok(relClose(JSON.parse(r.stdout).threshold, stored.imageThreshold, 1e-4));

    manifest.training.dataset.root = join(dir, 'gone');
    writeFileSync(join(legacy, 'simplenet.json'), JSON.stringify(manifest));
    const none = simplenet('predict', '--model', legacy, image, '--json');
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /stores no threshold and its training images are unavailable .*pass --threshold/);
    const given = simplenet('predict', '--model', legacy, image, '--json', '--threshold', '0');
    assert.equal(given.code, 0, given.stderr);
    assert.equal(JSON.parse(given.stdout).label, 1);
  });
});
