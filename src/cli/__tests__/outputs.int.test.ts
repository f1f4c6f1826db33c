/**
 * Issue 11, rows 1–4, 10 and 11 through the real command line: outputs never destroy what simplenet
 * did not create, replacements survive kill -9 at any point, interrupted runs leave nothing behind,
 * and disk-full / read-only errors name the path and the cause.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseTemporary } from '../../io/temporaries.js';
import { loadModel } from '../../model/modelDir.js';
import { loadCheckpoint } from '../../training/checkpoint.js';
import { CLI, runCli } from '../../testing/cli.js';
import { makeTinyBackbone, makeTinyDataset, TINY_CONFIG } from '../../testing/fixtures.js';
import { testTempDir } from '../../testing/tempDir.js';

const simplenet = runCli;

/** Starts the CLI, sends `signal` once `when()` holds (polled), and resolves with its exit. */
function interruptWhen(
  args: string[],
  when: () => boolean,
  signal: NodeJS.Signals,
  afterMs = 0,
): Promise<{ code: number | null; stderr: string; fired: boolean }> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CI: 'true' } });
    let stderr = '';
    let fired = false;
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setInterval(() => {
      if (!fired && when()) {
        fired = true;
        clearInterval(timer);
        setTimeout(() => child.kill(signal), afterMs);
      }
    }, 2);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ code, stderr, fired });
    });
  });
}

const temporariesIn = (dir: string) => readdirSync(dir).filter((n) => parseTemporary(n));
const oneLine = (stderr: string) =>
  stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('warning:'));

/** A deterministic stream of fractions in [0, 1) (mulberry32). */
function fractions(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('outputs never destroy what simplenet did not create', () => {
  const dir = testTempDir('simplenet-outputs-');
  const data = join(dir, 'data');
  const config = join(dir, 'tiny.json');
  const model = join(dir, 'model');
  let manifest = '';
  const train = (out: string, ...extra: string[]) =>
    simplenet(['train', '--data', data, '--category', 'widget', '--backbone', manifest, '--config', config, '--quiet', '--out', out, ...extra]);
  before(async () => {
    await makeTinyDataset(data);
    // More test images, so that a test run lasts long enough to be interrupted in the middle.
    for (let i = 0; i < 40; i++) copyFileSync(join(data, 'widget/test/good/000.png'), join(data, `widget/test/good/c${i}.png`));
    manifest = makeTinyBackbone(join(dir, 'backbone'));
    writeFileSync(config, JSON.stringify(TINY_CONFIG));
    assert.equal(train(model).code, 0);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('row 1: train --out onto a dataset and test --report onto the model are refused; nothing is deleted', () => {
    const v = join(dir, 'v');
    mkdirSync(join(v, 'keep'), { recursive: true });
    writeFileSync(join(v, 'keep', 'important.txt'), 'x');
    const before = readdirSync(join(data, 'widget/train/good')).length;
    const r = simplenet(['train', '--data', data, '--category', 'widget', '--backbone', manifest, '--config', config, '--out', v]);
    assert.equal(r.code, 1);
    assert.deepEqual(oneLine(r.stderr), [
      `simplenet: ${v}: exists and is not a simplenet model folder (it holds 1 entries, e.g. 'keep'); refusing to replace it (choose another path or remove it yourself)`,
    ]);
    assert.equal(readFileSync(join(v, 'keep', 'important.txt'), 'utf8'), 'x');
    const onData = train(data);
    assert.equal(onData.code, 1);
    assert.equal(readdirSync(join(data, 'widget/train/good')).length, before);

    const t = simplenet(['test', '--model', model, '--data', data, '--category', 'widget', '--report', model, '--quiet']);
    assert.equal(t.code, 1);
    assert.match(t.stderr, /is a simplenet model folder, not a simplenet test report; refusing to replace it/);
    assert.doesNotThrow(() => readFileSync(join(model, 'heads.safetensors')));
  });

  test('a model of ours is replaced by a rerun, and so are the outputs we wrote beside it', () => {
    const out = join(dir, 'rerun');
    assert.equal(train(out).code, 0);
    const json = join(out, 'metrics.json');
    assert.equal(simplenet(['test', '--model', out, '--data', data, '--category', 'widget', '--json', json, '--quiet']).code, 0);
    assert.equal(train(out, '--seed', '1').code, 0);
    assert.equal(existsSync(json), false, 'the old model’s metrics went with it');
    writeFileSync(join(out, 'notes.txt'), 'mine');
    const r = train(out);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /also holds files simplenet did not write \(notes\.txt\)/);
    assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'mine');
  });

  test('rows 2 and 3: kill -9 at 10 seeded points of train, then a rerun: never a missing or half-written model, no temporary left', async () => {
    const out = join(dir, 'killed');
    const args = [
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
      '--epochs',
      '24',
      '--checkpoint-every',
      '1',
      '--out',
      out,
    ];
    const started = Date.now();
    assert.equal(simplenet(args).code, 0);
    const full = Date.now() - started;
    const next = fractions(11);
    const seen = new Set<string>();
    let killed = 0;
    for (let k = 0; k < 10; k++) {
      // Odd kills anywhere in the run; even ones inside the training loop (a checkpoint exists),
      // where the checkpoint and model writes happen.
      const inLoop = k % 2 === 0;
      const at = Math.round(next() * (inLoop ? full / 2 : full));
      const r = await interruptWhen(args, inLoop ? () => existsSync(`${out}.checkpoint`) : () => true, 'SIGKILL', at);
      // 0: the run ended before the kill point, which is one of the points too.
      assert.ok(r.code === null || r.code === 0, `exit ${r.code}: ${r.stderr}`);
      if (r.code === null) killed++;
      // Right after the kill: the previous complete model is at --out, or (killed between the two
      // renames of the swap) aside under its .old name, which every reader of ours puts back.
      const model = await loadModel(out);
      assert.equal(model.manifest.training.epochs, 24);
      const ckpt = existsSync(`${out}.checkpoint`);
      seen.add(ckpt ? 'checkpoint' : 'none');
      const rerun = simplenet(ckpt ? [...args, '--resume'] : args);
      assert.equal(rerun.code, 0, rerun.stderr);
      await loadModel(out);
      assert.deepEqual(temporariesIn(dir), [], `after kill ${k} at ${at} ms and a rerun`);
      assert.equal(existsSync(`${out}.checkpoint`), false);
    }
    assert.ok(seen.has('checkpoint'), 'some kills hit the training loop, after a checkpoint was written');
    assert.ok(killed >= 5, `${killed} of 10 runs were killed before they ended`);
  });

  test('row 3: SIGINT during test --report leaves nothing; kill -9 leaves a temporary the next run removes', async () => {
    const report = join(dir, 'r');
    const args = ['test', '--model', model, '--data', data, '--category', 'widget', '--report', report, '--quiet'];
    const inProgress = () => temporariesIn(dir).some((n) => n.startsWith('.r.'));
    const int = await interruptWhen(args, inProgress, 'SIGINT');
    assert.ok(int.fired);
    assert.equal(int.code, 130, int.stderr);
    assert.match(int.stderr, /interrupted \(SIGINT\)/);
    assert.deepEqual(temporariesIn(dir), []);
    assert.equal(existsSync(report), false);

    const killed = await interruptWhen(args, inProgress, 'SIGKILL');
    assert.ok(killed.fired);
    assert.equal(temporariesIn(dir).length, 1, 'kill -9 cannot clean up');
    const r = simplenet(args);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(temporariesIn(dir), []);
    assert.ok(existsSync(join(report, 'report.html')));
  });

  test('row 10: export onto a folder, and test --json onto an image, are refused with one clear line', () => {
    const e = simplenet(['export', '--model', model, '--out', dir, '--quiet']);
    assert.equal(e.code, 1);
    assert.deepEqual(oneLine(e.stderr), [`simplenet: ${dir}: is a folder; give the path of a file to write`]);
    const image = join(data, 'widget/test/good/000.png');
    const bytes = readFileSync(image);
    const j = simplenet(['test', '--model', model, '--data', data, '--category', 'widget', '--json', image, '--quiet']);
    assert.equal(j.code, 1);
    assert.match(j.stderr, /exists and is not a metrics JSON written by simplenet/);
    assert.deepEqual(readFileSync(image), bytes);
  });

  test('row 6: --max-pixels (before or after the command) refuses a larger image before decoding it', () => {
    const image = join(data, 'widget/test/good/000.png');
    for (const args of [
      ['--max-pixels', '100', 'predict', '--model', model, image],
      ['predict', '--max-pixels', '100', '--model', model, image],
    ]) {
      const r = simplenet([...args, '--quiet']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /000\.png: image is 40×40 .* over the limit of 100 pixels; raise it with --max-pixels/);
    }
  });

  test('row 11: no file is left in the temp folder (onnxruntime’s telemetry log included)', () => {
    const tmp = testTempDir('simplenet-tmpdir-');
    try {
      const r = simplenet(['predict', '--model', model, join(data, 'widget/test/spot'), '--quiet'], { TMPDIR: tmp });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(readdirSync(tmp), []);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  describe('rows 4 and 10 on real file systems (root: a small tmpfs)', () => {
    const mnt = join(dir, 'mnt');
    let mounted = false;
    before(() => {
      mkdirSync(mnt);
      mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=600k', 'tmpfs', mnt]).status === 0;
    });
    after(() => {
      if (mounted) spawnSync('umount', [mnt]);
    });

    test('row 4: a full disk: predict --out and train --out name the path and the cause, leave no partial file, keep the user’s', async (t) => {
      if (!mounted) return t.skip('needs root to mount a tmpfs');
      const filler = join(mnt, 'filler.bin');
      spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1k', 'count=590']);
      const pred = join(mnt, 'pred');
      const p = simplenet(['predict', '--model', model, join(data, 'widget/test'), '--out', pred, '--quiet']);
      assert.equal(p.code, 1);
      assert.match(p.stderr, new RegExp(`^simplenet: ${pred}: cannot write: no space left on the device \\(ENOSPC\\)$`, 'm'));
      const m = train(join(mnt, 'm'));
      assert.equal(m.code, 1);
      assert.match(m.stderr, /mnt\/m(\.checkpoint)?: cannot write: no space left on the device \(ENOSPC\)/);
      // The last complete checkpoint is kept on purpose, for --resume once there is space.
      const left = readdirSync(mnt).filter((n) => n !== 'm.checkpoint');
      assert.deepEqual(left, ['filler.bin']);
      if (existsSync(join(mnt, 'm.checkpoint'))) {
        assert.match(m.stderr, /m\.checkpoint after epoch \d+ is kept: rerun with --resume/);
        assert.ok(await loadCheckpoint(join(mnt, 'm.checkpoint')));
      }
    });

    test('row 10: a read-only file system is named as such', (t) => {
      if (!mounted) return t.skip('needs root to mount a tmpfs');
      spawnSync('mount', ['-o', 'remount,ro', mnt]);
      const pred = join(mnt, 'pred2');
      const p = simplenet(['predict', '--model', model, join(data, 'widget/test/spot'), '--out', pred, '--quiet']);
      assert.equal(p.code, 1);
      assert.match(p.stderr, new RegExp(`${pred}: cannot write: read-only file system \\(EROFS\\)`));
    });
  });
});
