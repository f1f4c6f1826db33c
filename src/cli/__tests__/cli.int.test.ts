import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import sharp from 'sharp';
import { decodeNpy } from '../../io/npy.js';
import { REPO_ROOT } from '../../testing/golden.js';
import { makeTinyBackbone, makeTinyDataset, TINY_CONFIG } from '../../testing/fixtures.js';
import { testTempDir } from '../../testing/tempDir.js';

const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');

function simplenet(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('simplenet CLI on a tiny dataset', () => {
  const dir = testTempDir('simplenet-cli-');
  const data = join(dir, 'data');
  const config = join(dir, 'tiny.json');
  let manifest = '';
  before(async () => {
    await makeTinyDataset(data);
    manifest = makeTinyBackbone(join(dir, 'backbone'));
    writeFileSync(config, JSON.stringify(TINY_CONFIG));
  });

  test('train writes a self-describing model dir; test reports metrics from it alone', () => {
    const model = join(dir, 'model');
    const train = simplenet('train', '--data', data, '--category', 'widget', '--backbone', manifest, '--config', config, '--seed', '3', '--out', model);
    assert.equal(train.code, 0, train.stderr);
    const summary = JSON.parse(train.stdout);
    assert.equal(summary.epochs, 3);
    assert.equal(summary.steps, 9);
    assert.deepEqual(readdirSync(model).sort(), ['backbone.onnx', 'heads.safetensors', 'simplenet.json', 'training_log.csv']);
    const manifestJson = JSON.parse(readFileSync(join(model, 'simplenet.json'), 'utf8'));
    assert.equal(manifestJson.backbone.identity.kind, 'onnx');
    assert.match(manifestJson.backbone.identity.onnxSha256, /^[0-9a-f]{64}$/);
    assert.equal(manifestJson.config.train.seed, 3);
    // Thresholds come from held-out good training images, never from the test split.
    assert.equal(typeof manifestJson.scoring.pixelThreshold, 'number');
    // The default floor: neither threshold goes below the training images' own estimate; on this
    // fixture it sets the image threshold, and the source says so.
    const floor = manifestJson.scoring.floor;
    assert.equal(floor.stats.images.n, manifestJson.training.dataset.nTrain);
    assert.ok(manifestJson.scoring.pixelThreshold >= floor.pixelThreshold);
    assert.equal(manifestJson.scoring.imageThreshold, floor.imageThreshold);
    assert.equal(manifestJson.scoring.thresholdSource, 'training-floor');
    const held: string[] = manifestJson.training.validation.images;
    assert.ok(held.length >= 1 && held.every((p) => p.includes('train/good')), held.join());
    assert.equal(manifestJson.training.dataset.nTrain + held.length, readdirSync(join(data, 'widget/train/good')).length);
    assert.equal(readFileSync(join(model, 'training_log.csv'), 'utf8').trim().split('\n').length, 4);
    assert.match(train.stderr, /epoch 3\/3/);
    assert.equal(existsSync(`${model}.checkpoint`), false, 'the checkpoint is removed once the model is saved');

    const metricsFile = join(dir, 'metrics.json');
    const t = simplenet('test', '--model', model, '--data', data, '--category', 'widget', '--json', metricsFile, '--quiet');
    assert.equal(t.code, 0, t.stderr);
    assert.equal(t.stderr, '');
    assert.match(t.stdout, /image AUROC/);
    const m = JSON.parse(readFileSync(metricsFile, 'utf8'));
    for (const k of ['image_auroc', 'pixel_auroc', 'pixel_aupro', 'image_f1_max']) {
      assert.equal(typeof m[k], 'number', k);
      assert.ok(m[k] >= 0 && m[k] <= 1, `${k} = ${m[k]}`);
    }
    assert.equal(m.n_images, 5);
    assert.equal(m.epochs, 3);
    assert.equal(m.seed, 3);
  });

  test('test --report writes metrics, predictions, maps, gallery pictures and report.html', () => {
    const report = join(dir, 'report');
    const r = simplenet('test', '--model', join(dir, 'model'), '--data', data, '--category', 'widget', '--report', report, '--quiet');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(report).sort(), ['images', 'maps', 'metrics.json', 'metrics.md', 'predictions.csv', 'report.html']);
    const m = JSON.parse(readFileSync(join(report, 'metrics.json'), 'utf8'));
    assert.equal(typeof m.pixel_aupro, 'number');
    assert.equal(m.threshold_source, 'training-floor');
    assert.equal(m.oracle, undefined);
    for (const k of ['image_threshold', 'pixel_threshold', 'pixel_f1_threshold']) assert.equal(typeof m[k], 'number', k);
    const csv = readFileSync(join(report, 'predictions.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], 'path,label,defect_type,score,score_normalized,pred_label');
    assert.equal(csv.length, 6);
    const spot = csv.find((l) => l.includes('spot/000.png'))?.split(',') ?? [];
    assert.deepEqual([spot[1], spot[2]], ['1', 'spot']);
    assert.deepEqual(readdirSync(join(report, 'maps')).sort(), ['good', 'spot']);
    const map = decodeNpy(readFileSync(join(report, 'maps/spot/000.npy')));
    assert.deepEqual(map.dims, [32, 32]);
    assert.deepEqual(readdirSync(join(report, 'images/spot')).sort(), ['000.png', '001.png', '002.png']);
    const png = readFileSync(join(report, 'images/spot/000.png'));
    // Three 32-pixel panels with two 4-pixel gaps, 32 high (PNG IHDR width and height).
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [104, 32]);
    assert.match(readFileSync(join(report, 'metrics.md'), 'utf8'), /\| pixel AUPRO@0\.3 \| \d\.\d{4} \|/);
    const html = readFileSync(join(report, 'report.html'), 'utf8');
    assert.equal((html.match(/<img /g) ?? []).length, 5);
    assert.match(html, /Pixel ROC/);
    assert.match(html, /aria-label="Training loss"/);
    assert.doesNotMatch(html, /ORACLE/);
  });

  test('--threshold-from test is an oracle and says so everywhere', () => {
    const report = join(dir, 'oracle-report');
    const json = join(dir, 'oracle.json');
    const r = simplenet(
      'test',
      '--model',
      join(dir, 'model'),
      '--data',
      data,
      '--category',
      'widget',
      '--threshold-from',
      'test',
      '--report',
      report,
      '--json',
      json,
      '--quiet',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ORACLE: thresholds chosen on this test split/);
    const m = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(m.threshold_source, 'test-f1 (oracle)');
    assert.match(m.oracle, /ORACLE/);
    // F1-max thresholds applied with the graph's strict ">": the labels reach the F1-max itself.
    assert.equal(m.image_f1_at_threshold, m.image_f1_max);
    assert.match(readFileSync(join(report, 'metrics.md'), 'utf8'), /ORACLE/);
    assert.match(readFileSync(join(report, 'report.html'), 'utf8'), /class="oracle"/);
    const bad = simplenet('test', '--model', join(dir, 'model'), '--data', data, '--category', 'widget', '--threshold-from', 'best');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--threshold-from must be 'validation' or 'test'/);
  });

  test('issue-6 mechanisms: synthetic-defect validation chooses the model; the log and manifest say so; --preset paper turns them off', () => {
    const model = join(dir, 'model-mech');
    const r = simplenet(
      'train',
      '--data',
      data,
      '--category',
      'widget',
      '--backbone',
      manifest,
      '--config',
      config,
      '--quiet',
      '--out',
      model,
      '--validate-every',
      '1',
      '--select',
      'validation',
      '--guard',
      '--schedule',
      'cosine',
      '--warmup-epochs',
      '1',
      '--ema',
      '0.9',
      '--noise-scale',
      'feature-std',
      '--noise-std',
      '0.2',
      '--threshold-floor',
      'training',
    );
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(readFileSync(join(model, 'simplenet.json'), 'utf8'));
    assert.equal(m.preset, 'custom');
    assert.equal(m.training.selected.by, 'validation');
    assert.ok(m.training.selected.epoch >= 1 && m.training.selected.epoch <= 3);
    assert.ok(m.training.featureStd > 0 && Math.abs(m.training.noiseStd - 0.2 * m.training.featureStd) < 1e-9);
    const log = readFileSync(join(model, 'training_log.csv'), 'utf8').trim().split('\n');
    assert.equal(log[0], 'epoch,loss,p_true,p_fake,seconds,lr_factor,val_image_auroc,val_patch_auroc,val_patch_aupro,event');
    for (const row of log.slice(1)) {
      const [, , , , , lr, valImage, valPatch, valAupro] = row.split(',');
      assert.ok(Number(lr) > 0 && Number(lr) <= 1, row);
      assert.ok(Number(valImage) >= 0 && Number(valImage) <= 1 && valPatch !== '', row);
      assert.ok(valAupro !== '' && Number(valAupro) >= 0 && Number(valAupro) <= 1, row);
    }
    const paper = join(dir, 'model-paper');
    const p = simplenet(
      'train',
      '--data',
      data,
      '--category',
      'widget',
      '--backbone',
      manifest,
      '--config',
      config,
      '--quiet',
      '--out',
      paper,
      '--guard',
      '--ema',
      '0.9',
      '--threshold-floor',
      'training',
      '--preset',
      'paper',
    );
    assert.equal(p.code, 0, p.stderr);
    const pm = JSON.parse(readFileSync(join(paper, 'simplenet.json'), 'utf8'));
    assert.equal(pm.preset, 'paper');
    assert.deepEqual(pm.training.selected, { by: 'final', epoch: 3 });
    // The threshold's estimator: 'normal' by default, the held-out quantile itself under the paper.
    assert.equal(m.scoring.estimator, 'normal');
    assert.ok(m.scoring.imageThreshold >= m.scoring.stats.images.quantile);
    assert.equal(pm.scoring.estimator, 'empirical');
    assert.equal(pm.scoring.imageThreshold, pm.scoring.stats.images.quantile);
    // With the training floor the thresholds are at least the training images' estimates; the
    // paper's threshold is the held-out quantile alone, whatever the flags.
    assert.equal(m.scoring.floor.stats.images.n, m.training.dataset.nTrain);
    assert.ok(m.scoring.imageThreshold >= m.scoring.floor.imageThreshold && m.scoring.pixelThreshold >= m.scoring.floor.pixelThreshold);
    assert.equal(pm.scoring.floor, undefined);
    const bad = simplenet(
      'train',
      '--data',
      data,
      '--category',
      'widget',
      '--backbone',
      manifest,
      '--config',
      config,
      '--quiet',
      '--out',
      join(dir, 'm-bad'),
      '--select',
      'validation',
      '--val-fraction',
      '0',
    );
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--select validation needs held-out images: --val-fraction must be > 0/);
    assert.equal(existsSync(join(dir, 'm-bad')), false);
  });

  test('defaults are the validated preset; without held-out images they fall back to the final weights, with a warning', () => {
    const model = join(dir, 'model-defaults');
    const r = simplenet('train', '--data', data, '--category', 'widget', '--backbone', manifest, '--config', config, '--quiet', '--out', model);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: only 1 held-out good image for synthetic-defect validation: the chosen epoch is noisy/);
    const m = JSON.parse(readFileSync(join(model, 'simplenet.json'), 'utf8'));
    assert.equal(m.preset, 'validated');
    assert.equal(m.config.train.select, 'validation');
    assert.equal(m.config.validation.every, 1);
    assert.equal(m.training.selected.by, 'validation');
    const validated = readFileSync(join(model, 'training_log.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((row) => row.split(',')[6] !== '');
    assert.deepEqual(validated, [true, true, true], 'validation after every epoch');
    const json = join(dir, 'defaults-metrics.json');
    const t = simplenet('test', '--model', model, '--data', data, '--category', 'widget', '--json', json, '--quiet');
    assert.equal(t.code, 0, t.stderr);
    const metrics = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(metrics.preset, 'validated');
    assert.deepEqual(metrics.selected, m.training.selected);
    const all = join(dir, 'model-all-train');
    const f = simplenet(
      'train',
      '--data',
      data,
      '--category',
      'widget',
      '--backbone',
      manifest,
      '--config',
      config,
      '--quiet',
      '--out',
      all,
      '--val-fraction',
      '0',
    );
    assert.equal(f.code, 0, f.stderr);
    assert.match(f.stderr, /warning: no synthetic-defect validation .* the model is the final weights/);
    const fm = JSON.parse(readFileSync(join(all, 'simplenet.json'), 'utf8'));
    assert.deepEqual(fm.training.selected, { by: 'final', epoch: 3 });
    assert.equal(fm.config.train.select, 'final');
    // The paper's rule on the default fit ('tile', not the paper's crop): neither preset.
    assert.equal(fm.preset, 'custom');
  });

  test('benchmark trains and tests every category × seed and summarises mean ± std', async () => {
    const root = join(dir, 'bench-data');
    await makeTinyDataset(root, 'widget');
    await makeTinyDataset(root, 'gadget');
    const out = join(dir, 'bench');
    const r = simplenet(
      'benchmark',
      '--data',
      root,
      '--categories',
      'widget,gadget',
      '--seeds',
      '0,1',
      '--backbone',
      manifest,
      '--config',
      config,
      '--epochs',
      '1',
      '--out',
      out,
      '--quiet',
    );
    assert.equal(r.code, 0, r.stderr);
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 5);
    assert.deepEqual(
      csv.slice(1).map((l) => l.split(',').slice(0, 3).join(',')),
      ['widget,0,1', 'widget,1,1', 'gadget,0,1', 'gadget,1,1'],
    );
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    assert.match(md, /\| widget \| 2 \| \d\.\d{3} ± \d\.\d{3} \|/);
    assert.match(md, /\*\*overall\*\*/);
    assert.equal(r.stdout, md);
    assert.deepEqual(readdirSync(join(out, 'models', 'gadget')).sort(), ['seed0', 'seed1']);
  });

  test('benchmark --eval-every: final, validation-selected and oracle columns, and per-run curves', () => {
    const out = join(dir, 'bench-eval');
    const r = simplenet(
      'benchmark',
      '--data',
      data,
      '--categories',
      'widget',
      '--seeds',
      '0,1',
      '--backbone',
      manifest,
      '--config',
      config,
      '--epochs',
      '2',
      '--eval-every',
      '1',
      '--out',
      out,
      '--quiet',
    );
    assert.equal(r.code, 0, r.stderr);
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    assert.match(md, /\| widget \| [\d.]+ ± [\d.]+ \/ [\d.]+ ± [\d.]+ \/ [\d.]+ ± [\d.]+ \| .* \| .* \| [12], [12]; [12], [12] \|/);
    assert.match(md, /oracle column picks the epoch with the best TEST image AUROC/);
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    assert.match(csv[0], /,final_epoch,final_image_auroc,final_pixel_auroc,final_pixel_aupro,validation_epoch,.*,oracle_epoch,/);
    const curves = readFileSync(join(out, 'curves', 'widget_seed1.csv'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(curves.length, 3);
    assert.match(
      curves[0],
      /^epoch,loss,p_true,p_fake,seconds,lr_factor,val_image_auroc,val_patch_auroc,val_patch_aupro,event,test_image_auroc,test_pixel_auroc,test_aupro$/,
    );
    const last = curves[2].split(',');
    assert.ok(Number(last[6]) >= 0 && Number(last.at(-3)) >= 0, curves[2]);
  });

  test('LOCO masks split over several files score like one mask (their union)', async () => {
    const sharp = (await import('sharp')).default;
    const { cpSync, mkdirSync } = await import('node:fs');
    const loco = join(dir, 'loco');
    const w = join(data, 'widget');
    cpSync(join(w, 'train'), join(loco, 'widget/train'), { recursive: true });
    cpSync(join(w, 'test'), join(loco, 'widget/test'), { recursive: true });
    for (const name of ['000', '001', '002']) {
      const gt = join(loco, 'widget/ground_truth/spot', name);
      mkdirSync(gt, { recursive: true });
      const { data: px, info } = await sharp(join(w, 'ground_truth/spot', `${name}_mask.png`))
        .toColourspace('b-w')
        .raw()
        .toBuffer({ resolveWithObject: true });
      const top = Buffer.from(px);
      const bottom = Buffer.from(px);
      top.fill(0, (info.height / 2) * info.width);
      bottom.fill(0, 0, (info.height / 2) * info.width);
      await sharp(top, { raw: { width: info.width, height: info.height, channels: 1 } })
        .png()
        .toFile(join(gt, '000.png'));
      await sharp(bottom, { raw: { width: info.width, height: info.height, channels: 1 } })
        .png()
        .toFile(join(gt, '001.png'));
    }
    const model = join(dir, 'model');
    const asMvtec = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
    const out = join(dir, 'loco-metrics.json');
    const r = simplenet('test', '--model', model, '--format', 'loco', '--data', loco, '--category', 'widget', '--json', out, '--quiet');
    assert.equal(r.code, 0, r.stderr);
    const asLoco = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(asLoco.pixel_auroc, asMvtec.pixel_auroc);
    assert.equal(asLoco.pixel_aupro, asMvtec.pixel_aupro);
  });

  test('the same seed trains the same model', () => {
    const a = join(dir, 'seed-a');
    const b = join(dir, 'seed-b');
    for (const out of [a, b]) {
      const r = simplenet('train', '--data', data, '--category', 'widget', '--backbone', manifest, '--config', config, '--quiet', '--out', out);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.deepEqual(readFileSync(join(a, 'heads.safetensors')), readFileSync(join(b, 'heads.safetensors')));
  });

  test('embed writes N×targetDim float32 features in row-major grid order', () => {
    const out = join(dir, 'f.npy');
    const image = join(data, 'widget/test/spot/000.png');
    const r = simplenet('embed', '--backbone', manifest, '--image', image, '--config', config, '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const t = decodeNpy(readFileSync(out));
    assert.equal(t.dtype, 'float32');
    assert.deepEqual(t.dims, [64, 16]);
  });

  test('the folder format trains and tests on plain directories, with or without defects and masks', () => {
    const w = join(data, 'widget');
    const model = join(dir, 'folder-model');
    const folder = ['--format', 'folder', '--normal-dir', join(w, 'train/good')];
    const train = simplenet('train', ...folder, '--config', config, '--backbone', manifest, '--quiet', '--out', model);
    assert.equal(train.code, 0, train.stderr);
    const withMasks = join(dir, 'folder-metrics.json');
    const t = simplenet(
      'test',
      '--model',
      model,
      ...folder,
      '--normal-test-dir',
      join(w, 'test/good'),
      '--abnormal-dir',
      join(w, 'test/spot'),
      '--mask-dir',
      join(w, 'ground_truth/spot'),
      '--json',
      withMasks,
      '--quiet',
    );
    assert.equal(t.code, 0, t.stderr);
    const m = JSON.parse(readFileSync(withMasks, 'utf8'));
    assert.equal(m.dataset_format, 'folder');
    assert.equal(m.n_images, 5);
    assert.equal(typeof m.pixel_auroc, 'number');
    // No defects: what needs them is n/a and said so, the run still succeeds.
    const goodOnly = simplenet('test', '--model', model, ...folder, '--normal-test-dir', join(w, 'test/good'), '--quiet');
    assert.equal(goodOnly.code, 0, goodOnly.stderr);
    assert.match(goodOnly.stdout, /image AUROC\s+n\/a/);
    assert.match(goodOnly.stdout, /note: no defective test images: AUROC, AP and F1 need defects/);
    assert.match(goodOnly.stdout, /good scores\s+n 2, mean/);
    assert.match(goodOnly.stdout, /threshold\s+image [-\d.e]+, pixel [-\d.e]+: good images above it \d\.\d{4}/);
    const wrong = simplenet('test', '--model', model, '--format', 'folder', '--data', data, '--quiet');
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /--format folder needs --normal-dir/);
  });

  test('test-time bad input: a mask of another size is resized with a warning; an undecodable image is named, no report left', async () => {
    const w = join(data, 'widget');
    const root = join(dir, 'folder-bad');
    cpSync(join(w, 'test/spot'), join(root, 'spot'), { recursive: true });
    cpSync(join(w, 'ground_truth/spot'), join(root, 'masks'), { recursive: true });
    const big = await sharp(join(root, 'masks/000_mask.png')).resize(80, 80, { kernel: 'nearest' }).png().toBuffer();
    writeFileSync(join(root, 'masks/000_mask.png'), big);
    const folder = [
      '--format',
      'folder',
      '--normal-dir',
      join(w, 'train/good'),
      '--normal-test-dir',
      join(w, 'test/good'),
      '--abnormal-dir',
      join(root, 'spot'),
      '--mask-dir',
      join(root, 'masks'),
    ];
    const ok = simplenet('test', '--model', join(dir, 'model'), ...folder, '--quiet');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stderr, `warning: ${join(root, 'masks/000_mask.png')}: mask size differs from its image; resized to match\n`);

    writeFileSync(join(root, 'spot/001.png'), 'not a png');
    const report = join(dir, 'bad-report');
    const bad = simplenet('test', '--model', join(dir, 'model'), ...folder, '--report', report, '--quiet');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spot\/001\.png/);
    assert.equal(
      bad.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('warning:')).length,
      1,
      bad.stderr,
    );
    assert.equal(existsSync(report), false, 'no partial report');
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes('bad-report')),
      [],
    );
  });

  describe('bad input: one line naming the file, non-zero exit, no model dir', () => {
    const expectFailure = (args: string[], pattern: RegExp, out?: string) => {
      const r = simplenet(...args);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      if (out) {
        assert.equal(existsSync(out), false, 'no model dir is left behind');
        assert.deepEqual(
          readdirSync(dir).filter((n) => n.startsWith('.') && n.includes('tmp')),
          [],
        );
      }
    };
    const train = (root: string, category: string, out: string, extra: string[] = []) => [
      'train',
      '--data',
      root,
      '--category',
      category,
      '--backbone',
      manifest,
      '--config',
      config,
      '--quiet',
      '--out',
      out,
      ...extra,
    ];

    test('unknown category', () => expectFailure(train(data, 'nope', join(dir, 'm1')), /unknown category 'nope' \(found: widget\)/, join(dir, 'm1')));

    test('bad --fit / --tiles: refused naming the flag and what it takes, no model dir', () => {
      for (const [extra, pattern] of [
        [['--fit', 'stretch'], /--fit must be 'crop' or 'squash' or 'letterbox' or 'tile', got 'stretch'/],
        [['--fit', 'tile', '--tiles', '0x2'], /--tiles must be 'auto' or ROWSxCOLUMNS .*got '0x2'/],
      ] as const) {
        const r = simplenet(...train(data, 'widget', join(dir, 'mf'), [...extra]));
        assert.notEqual(r.code, 0);
        assert.match(r.stderr.split('\n')[0], pattern);
        assert.equal(existsSync(join(dir, 'mf')), false);
      }
    });

    test('corrupt training image', async () => {
      const root = join(dir, 'corrupt');
      await makeTinyDataset(root);
      const bad = join(root, 'widget/train/good/002.png');
      writeFileSync(bad, readFileSync(bad).subarray(0, 60));
      expectFailure(train(root, 'widget', join(dir, 'm2')), new RegExp(`${bad.replace(/[/.]/g, '\\$&')}: cannot decode image`), join(dir, 'm2'));
    });

    test('non-image file with an image extension', async () => {
      const root = join(dir, 'text');
      await makeTinyDataset(root);
      writeFileSync(join(root, 'widget/train/good/001.png'), 'hello');
      expectFailure(train(root, 'widget', join(dir, 'm3')), /001\.png: cannot decode image/, join(dir, 'm3'));
    });

    test('empty train/good', async () => {
      const root = join(dir, 'empty');
      await makeTinyDataset(root, 'widget', { nTrain: 0 });
      expectFailure(train(root, 'widget', join(dir, 'm4')), /train\/good: no training images/, join(dir, 'm4'));
    });

    test('missing mask', async () => {
      const root = join(dir, 'nomask');
      await makeTinyDataset(root);
      const { rmSync } = await import('node:fs');
      rmSync(join(root, 'widget/ground_truth/spot/001_mask.png'));
      expectFailure(train(root, 'widget', join(dir, 'm5')), /spot\/001\.png: no ground-truth mask/, join(dir, 'm5'));
    });

    test('manifest whose layer is not an output of its ONNX', () => {
      const bad = join(dir, 'backbone', 'bad.json');
      writeFileSync(bad, JSON.stringify({ onnx: 'tiny.onnx', input: 'pixels', mean: [0, 0, 0], std: [1, 1, 1], layers: ['fine', 'layer9'] }));
      expectFailure(
        ['train', '--data', data, '--category', 'widget', '--backbone', bad, '--quiet', '--out', join(dir, 'm6')],
        /bad\.json: layer 'layer9' is not an output of tiny\.onnx/,
        join(dir, 'm6'),
      );
    });

    test('builtin backbone weights with a missing tensor', async () => {
      const { encodeSafetensors } = await import('../../io/safetensors.js');
      const { f32 } = await import('../../onnx/tensor.js');
      const weights = join(dir, 'partial.safetensors');
      writeFileSync(weights, encodeSafetensors({ 'conv1.weight': f32([64, 3, 7, 7]) }));
      expectFailure(
        ['train', '--data', data, '--category', 'widget', '--backbone', 'resnet18', '--weights', weights, '--quiet', '--out', join(dir, 'm7')],
        /partial\.safetensors: tensor 'bn1\.\w+' is missing/,
        join(dir, 'm7'),
      );
    });

    test('invalid config value names the key', () => {
      const badConfig = join(dir, 'bad-config.json');
      writeFileSync(badConfig, JSON.stringify({ train: { epochs: 0 } }));
      expectFailure(
        ['train', '--data', data, '--category', 'widget', '--backbone', manifest, '--config', badConfig, '--out', join(dir, 'm8')],
        /train\.epochs/,
        join(dir, 'm8'),
      );
    });

    test('test with a directory that is not a model', () =>
      expectFailure(['test', '--model', data, '--data', data, '--category', 'widget'], /not a simplenet model directory/));
  });
});
