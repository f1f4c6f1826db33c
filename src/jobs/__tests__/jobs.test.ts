/**
 * The job pieces without a server: the spec's defaults and refusals, progress from trainer events
 * (history, ETA), the store turning unfinished jobs into `interrupted` on open, the data root's
 * confinement (`..`, absolute paths, symlinks out) and the dataset listing.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { makeTinyDataset } from '../../testing/fixtures.js';
import { DataRoot } from '../dataRoot.js';
import { listDatasets } from '../datasetList.js';
import { JobSpecError } from '../jobErrors.js';
import { applyProgress } from '../jobProgress.js';
import { JobSpecSchema, newJob } from '../jobSpec.js';
import { JobStore, newJobId } from '../jobStore.js';
import { testTempDir } from '../../testing/tempDir.js';

const dir = testTempDir('simplenet-jobs-unit-');
after(() => rmSync(dir, { recursive: true, force: true }));

const base = { kind: 'train', name: 'bottle-1', dataset: { format: 'mvtec', path: 'mvtec', category: 'bottle' } };

describe('job spec', () => {
  test("defaults: mobilenet_v2, the library's epochs, validated, seed 0, no replace", () => {
    const s = JobSpecSchema.parse(base);
    assert.deepEqual([s.backbone, s.epochs, s.preset, s.seed, s.replace], ['mobilenet_v2', undefined, 'validated', 0, false]);
    assert.ok(!('epochs' in s), 'no epoch count: the trainer plans them as `simplenet train` does');
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s, 'plain JSON');
  });
  test('refuses bad names, epochs, presets and unknown fields', () => {
    for (const bad of [
      { ...base, name: '../x' },
      { ...base, name: '.hidden' },
      { ...base, name: 'a'.repeat(65) },
      { ...base, epochs: 0 },
      { ...base, epochs: 1001 },
      { ...base, epochs: 1.5 },
      { ...base, preset: 'fast' },
      { ...base, kind: 'test' },
      { ...base, extra: 1 },
      { ...base, dataset: { format: 'mvtec' } },
    ]) {
      assert.equal(JobSpecSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });
});

describe('job progress', () => {
  test('epochs fill the history and the ETA; ticks set step and steps', () => {
    const job = newJob('j-1-abcdef', JobSpecSchema.parse({ ...base, epochs: 4 }));
    applyProgress(job, { type: 'start', task: 'epoch 1/4', total: 10, unit: 'items' });
    applyProgress(job, { type: 'progress', task: 'epoch 1/4', done: 5, total: 10 });
    assert.equal(job.progress.step, 5);
    assert.equal(job.progress.eta_s, undefined, 'no ETA before an epoch has finished');
    applyProgress(job, { type: 'epoch', epoch: 1, epochs: 4, loss: 0.5, pTrue: 0.9, pFake: 0.8, seconds: 2, valImageAuroc: 0.75 });
    assert.equal(job.progress.epoch, 1);
    assert.equal(job.progress.val_image_auroc, 0.75);
    assert.equal(job.progress.eta_s, 6);
    applyProgress(job, { type: 'progress', task: 'epoch 2/4', done: 5, total: 10 });
    assert.equal(job.progress.eta_s, 5);
    // A rerun epoch (after a resume) replaces its record rather than adding one.
    applyProgress(job, { type: 'epoch', epoch: 1, epochs: 4, loss: 0.4, pTrue: 0.9, pFake: 0.8, seconds: 2 });
    assert.deepEqual(
      job.history.map((h) => [h.epoch, h.loss]),
      [[1, 0.4]],
    );
  });
  test("a spec without epochs learns the planned count from the trainer's first epoch", () => {
    const job = newJob('j-2-abcdef', JobSpecSchema.parse(base));
    assert.equal(job.progress.epochs, 0, 'unknown until the trainer plans them');
    applyProgress(job, { type: 'start', task: 'extracting features', total: 188, unit: 'items' });
    assert.equal(job.progress.epochs, 0, 'only an epoch task says how many');
    applyProgress(job, { type: 'start', task: 'epoch 1/8', total: 24, unit: 'items' });
    assert.equal(job.progress.epochs, 8);
    applyProgress(job, { type: 'epoch', epoch: 1, epochs: 8, loss: 0.5, pTrue: 0.9, pFake: 0.8, seconds: 2 });
    assert.equal(job.progress.eta_s, 14);
  });
});

describe('job store', () => {
  test('saves one JSON per job; on open, queued and running jobs become interrupted', async () => {
    const jobsDir = join(dir, 'jobs');
    const store = new JobStore(jobsDir);
    const spec = JobSpecSchema.parse(base);
    const ids = [newJobId(1), newJobId(2), newJobId(3)];
    const states = ['queued', 'running', 'succeeded'] as const;
    for (const [i, id] of ids.entries()) await store.save({ ...newJob(id, spec), state: states[i] });
    writeFileSync(join(jobsDir, 'notes.txt'), 'not ours');
    const reopened = new JobStore(jobsDir);
    await reopened.flush();
    assert.deepEqual(
      reopened.list().map((j) => j.state),
      ['interrupted', 'interrupted', 'succeeded'],
    );
    const onDisk = JSON.parse(readFileSync(join(jobsDir, ids[1], 'job.json'), 'utf8'));
    assert.equal(onDisk.state, 'interrupted');
    assert.ok(readdirSync(jobsDir).includes('notes.txt'), 'nothing of the user is touched');
  });
});

describe('data root', () => {
  const root = join(dir, 'root');
  const outside = join(dir, 'outside');
  test('resolves paths under the root only', async () => {
    await makeTinyDataset(join(root, 'mvtec'), 'widget', { nTrain: 2, size: 32 });
    await makeTinyDataset(outside, 'widget', { nTrain: 2, size: 32 });
    symlinkSync(outside, join(root, 'link-out'));
    mkdirSync(join(root, 'empty', 'widget', 'train', 'good'), { recursive: true });
    mkdirSync(join(root, 'empty', 'widget', 'test', 'good'), { recursive: true });
    const dr = new DataRoot(root);
    const spec = (path: string, extra: object = {}) => JobSpecSchema.parse({ ...base, dataset: { format: 'mvtec', path, category: 'widget' }, ...extra });
    const ok = await dr.check(spec('mvtec'));
    assert.equal(ok.goodImages, 2);
    for (const [path, why] of [
      ['../outside', /without '\.\.'/],
      [outside, /relative to the data root/],
      ['link-out', /outside the data root/],
      ['missing', /does not exist/],
      ['empty', /good|no images|train/i],
    ] as const) {
      await assert.rejects(dr.check(spec(path)), (e: Error) => e instanceof JobSpecError && why.test(e.message), path);
    }
    await assert.rejects(dr.check(spec('mvtec', { backbone: '../x.json' })), JobSpecError);
    await assert.rejects(dr.check(spec('mvtec', { backbone: 'no_such_net' })), /backbone 'no_such_net'/);
    await assert.rejects(dr.check(JobSpecSchema.parse({ ...base, dataset: { format: 'mvtec', path: 'mvtec' } })), /needs a category/);
    await assert.rejects(dr.check(JobSpecSchema.parse({ ...base, dataset: { format: 'mvtec', path: 'mvtec', category: '../x' } })), JobSpecError);
  });
  test('lists candidate datasets without following symlinks', async () => {
    mkdirSync(join(root, 'photos'), { recursive: true });
    writeFileSync(join(root, 'photos', 'a.png'), readFileSync(join(root, 'mvtec', 'widget', 'train', 'good', '000.png')));
    const entries = await listDatasets(new DataRoot(root));
    assert.deepEqual(entries, [
      { path: 'mvtec', format: 'mvtec', categories: ['widget'], goodImages: 2 },
      { path: 'photos', format: 'folder', goodImages: 1 },
    ]);
  });
});
