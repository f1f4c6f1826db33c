/**
 * The library facade against the CLI: `train` warns through progress events exactly where the CLI
 * warns on stderr, is cancellable and resumable, and `Detector` scores paths and bytes alike.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ProgressEvent } from '../../core/progress.js';
import { REPO_ROOT } from '../../testing/golden.js';
import { makeTinyBackbone, makeTinyDataset, TINY_CONFIG } from '../../testing/fixtures.js';
import { Detector } from '../detector.js';
import { train } from '../train.js';
import { testTempDir } from '../../testing/tempDir.js';

const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');

describe('the facade', () => {
  const dir = testTempDir('simplenet-facade-');
  const data = join(dir, 'data');
  let manifest = '';
  before(async () => {
    await makeTinyDataset(data, 'widget', { nTrain: 8 });
    manifest = makeTinyBackbone(join(dir, 'backbone'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const spec = { format: 'mvtec' as const, root: data, category: 'widget' };

  test('without held-out images train() warns through events exactly as the CLI warns on stderr', async () => {
    const events: ProgressEvent[] = [];
    const config = { ...TINY_CONFIG, threshold: { validationFraction: 0 } };
    const detector = await train({ data: spec, backbone: manifest, out: join(dir, 'lib'), config, onProgress: (e) => events.push(e) });
    await detector.close();
    const warnings = events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
    assert.ok(
      warnings.some((w) => /no synthetic-defect validation/.test(w)),
      warnings.join('\n'),
    );
    const cfg = join(dir, 'tiny.json');
    writeFileSync(cfg, JSON.stringify(TINY_CONFIG));
    const r = spawnSync(
      process.execPath,
      [
        CLI,
        'train',
        '--data',
        data,
        '--category',
        'widget',
        '--backbone',
        manifest,
        '--config',
        cfg,
        '--val-fraction',
        '0',
        '--quiet',
        '--out',
        join(dir, 'cli'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const cliWarnings = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('warning: '))
      .map((l) => l.slice('warning: '.length));
    assert.deepEqual(warnings, cliWarnings);
    // Same data, config and seed: the same model.
    const a = JSON.parse(readFileSync(join(dir, 'lib/simplenet.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(dir, 'cli/simplenet.json'), 'utf8'));
    assert.equal(a.heads.sha256, b.heads.sha256);
  });

  test('an AbortSignal stops training after an epoch; the checkpoint stays and resume: true finishes', async () => {
    const out = join(dir, 'aborted');
    const controller = new AbortController();
    const config = { ...TINY_CONFIG, train: { ...TINY_CONFIG.train, epochs: 4 } };
    await assert.rejects(
      train({
        data: spec,
        backbone: manifest,
        out,
        config,
        signal: controller.signal,
        onProgress: (e) => e.type === 'epoch' && e.epoch === 2 && controller.abort(),
      }),
      { name: 'AbortError' },
    );
    assert.equal(existsSync(join(out, 'simplenet.json')), false);
    assert.ok(existsSync(`${out}.checkpoint`), 'the checkpoint stays');
    const epochs: number[] = [];
    const detector = await train({ data: spec, backbone: manifest, out, config, resume: true, onProgress: (e) => e.type === 'epoch' && epochs.push(e.epoch) });
    await detector.close();
    assert.deepEqual(epochs, [3, 4]);
    assert.equal(existsSync(`${out}.checkpoint`), false);
  });

  test('a Detector scores paths, bytes and many images alike; a bad input is one failed entry', async () => {
    await using detector = await Detector.load(join(dir, 'lib'));
    const path = join(data, 'widget/test/spot/000.png');
    const fromPath = await detector.score(path);
    const fromBytes = await detector.score(readFileSync(path), { label: 'upload.png' });
    assert.equal(fromBytes.score, fromPath.score);
    assert.equal(fromBytes.source, 'upload.png');
    assert.equal(fromPath.anomalyMap.length, fromPath.width * fromPath.height);
    const inputs = [path, join(data, 'widget/test/good/000.png'), join(dir, 'missing.png'), path];
    const out = [];
    for await (const r of detector.scoreMany(inputs, { concurrency: 2 })) out.push(r);
    assert.deepEqual(
      out.map((r) => r.ok),
      [true, true, false, true],
    );
    assert.equal(out[0].ok && out[3].ok && out[0].result.score === out[3].result.score, true);
    assert.match((out[2] as { error: Error }).error.message, /missing\.png/);
    // Trained without held-out images: the paper's rule ran, on the default fit (squash), not the
    // paper's crop: neither preset (model/config.ts, presetOf).
    assert.equal(detector.info.preset, 'custom');
    assert.equal(detector.info.thresholdSource, 'train-max');
  });
});
