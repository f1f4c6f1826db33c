/**
 * Training jobs over real HTTP on 127.0.0.1 (ephemeral ports), on the tiny fixtures: a job's
 * progress arrives as server-sent events and its model is then served without a restart; cancel
 * leaves no model and no temporary; bad specs and data outside the root are refused with 400 and
 * create no job; a server killed mid-job shows it `interrupted` after a restart and resume finishes
 * it from the checkpoint; SIGTERM mid-job exits 0 with the job interrupted.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { DataRoot } from '../../jobs/dataRoot.js';
import type { Job } from '../../jobs/jobSpec.js';
import { LocalJobRunner } from '../../jobs/localRunner.js';
import { makeTinyDataset } from '../../testing/fixtures.js';
import { CLI, type TinyWorkspace, tinyWorkspace } from '../../testing/cli.js';
import { ServiceMetrics } from '../metrics.js';
import { ModelSet, modelSources } from '../modelSet.js';
import { buildServer } from '../server.js';
import { testTempDir } from '../../testing/tempDir.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface InProcess {
  url: string;
  runner: LocalJobRunner;
  app: FastifyInstance;
  close(): Promise<void>;
}

async function startInProcess(root: string, modelsDir: string, trainConfig: string): Promise<InProcess> {
  mkdirSync(modelsDir, { recursive: true });
  const models = new ModelSet(() => modelSources([], [modelsDir], true), { maxBatch: 4, maxWaitMs: 1, queueLimit: 16 });
  const dataRoot = new DataRoot(root);
  const runner = new LocalJobRunner({
    jobsDir: join(modelsDir, '.simplenet-jobs'),
    dataRoot,
    modelsDir,
    trainConfig,
    hasModel: (n) => models.names().includes(n),
    onModel: (name, dir) => models.add({ name, dir }),
  });
  const app = await buildServer({
    models,
    metrics: new ServiceMetrics(() => models.depth()),
    ready: () => true,
    reload: () => models.load(),
    jobs: { runner, dataRoot, heartbeatMs: 100 },
  });
  await models.load();
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    runner,
    app,
    close: async () => {
      await runner.close();
      await app.close();
      await models.close();
    },
  };
}

interface Child {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

function startChild(args: string[]): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--quiet', ...args], { env: { ...process.env, SIMPLENET_TOKEN: '' } });
    let err = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /serving .* at (http:\/\/[\d.:]+)/.exec(err);
      if (m) resolve({ url: m[1], child, exited });
    });
    exited.then((code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

const postJson = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const getJob = async (url: string, id: string) => ((await (await fetch(`${url}/v1/jobs/${id}`)).json()) as { job: Job }).job;

async function waitFor(url: string, id: string, ok: (j: Job) => boolean, ms = 120_000): Promise<Job> {
  const end = Date.now() + ms;
  for (;;) {
    const j = await getJob(url, id);
    if (ok(j)) return j;
    if (Date.now() > end) throw new Error(`job ${id} did not get there in time: ${JSON.stringify({ state: j.state, progress: j.progress, error: j.error })}`);
    await sleep(50);
  }
}

interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads a job's event stream until `until` holds; then the client goes away. */
async function readEvents(
  url: string,
  until: (events: SseEvent[], heartbeats: number) => boolean,
): Promise<{ events: SseEvent[]; heartbeats: number; type: string }> {
  const ctrl = new AbortController();
  const r = await fetch(url, { signal: ctrl.signal });
  assert.equal(r.status, 200);
  const type = r.headers.get('content-type') ?? '';
  const reader = r.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let heartbeats = 0;
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the event stream ended');
      buf += decoder.decode(value, { stream: true });
      let at = buf.indexOf('\n\n');
      while (at >= 0) {
        const block = buf.slice(0, at);
        buf = buf.slice(at + 2);
        if (block.startsWith(':')) heartbeats++;
        else {
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null');
          events.push({ event, data });
        }
        at = buf.indexOf('\n\n');
      }
      if (until(events, heartbeats)) return { events, heartbeats, type };
    }
  } finally {
    ctrl.abort();
  }
}

/** Entries of the models folder other than models and the jobs folder: temporaries would show here. */
const strays = (modelsDir: string, models: string[]) => readdirSync(modelsDir).filter((n) => n !== '.simplenet-jobs' && !models.includes(n));

describe('serve: training jobs', () => {
  const dir = testTempDir('simplenet-jobs-');
  const root = join(dir, 'root');
  let w: TinyWorkspace;
  const spec = (name: string, epochs: number, extra: object = {}) => ({
    kind: 'train',
    name,
    dataset: { format: 'mvtec', path: 'data', category: 'widget' },
    backbone: 'backbone/tiny.json',
    epochs,
    ...extra,
  });
  before(async () => {
    w = await tinyWorkspace(root);
    await makeTinyDataset(join(dir, 'outside'), 'widget', { nTrain: 2 });
    symlinkSync(join(dir, 'outside'), join(root, 'link-out'));
    mkdirSync(join(root, 'empty', 'widget', 'train', 'good'), { recursive: true });
    mkdirSync(join(root, 'empty', 'widget', 'test', 'good'), { recursive: true });
    mkdirSync(join(root, 'notes'));
    writeFileSync(join(root, 'notes', 'readme.txt'), 'no images here');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('in one process', () => {
    const modelsDir = join(dir, 'models');
    let s: InProcess;
    before(async () => {
      s = await startInProcess(root, modelsDir, w.config);
    });
    after(async () => s.close());

    test('a 1-epoch job streams progress, then its model is listed and scores', async () => {
      const datasets = (await (await fetch(`${s.url}/v1/datasets`)).json()) as { root: string; entries: { path: string; format: string }[] };
      assert.ok(datasets.entries.some((e) => e.path === 'data' && e.format === 'mvtec'));
      assert.ok(!datasets.entries.some((e) => e.path.startsWith('link-out')), 'the symlink out of the root is not followed');

      const r = await postJson(`${s.url}/v1/jobs`, spec('w1', 1));
      assert.equal(r.status, 201);
      const { job } = (await r.json()) as { job: Job };
      assert.equal(job.spec.preset, 'validated');
      const { events, type } = await readEvents(`${s.url}/v1/jobs/${job.id}/events`, (ev) =>
        ev.some((e) => e.event === 'job' && ['succeeded', 'failed'].includes((e.data as Job).state)),
      );
      assert.match(type, /^text\/event-stream/);
      assert.equal(events[0].event, 'job');
      assert.equal((events[0].data as Job).id, job.id);
      const last = events.at(-1)!.data as Job;
      assert.equal(last.state, 'succeeded', last.error);
      assert.equal(last.model, 'w1');
      assert.ok(
        events.some((e) => e.event === 'progress' && typeof (e.data as { step: number }).step === 'number'),
        'progress events',
      );
      assert.equal(last.history.length, 1);
      assert.equal(last.progress.epoch, 1);
      await sleep(100);
      assert.equal(s.runner.listenerCount(), 0, 'the stream unsubscribed when the client went away');

      const models = (await (await fetch(`${s.url}/v1/models`)).json()) as { models: { name: string }[] };
      assert.deepEqual(
        models.models.map((m) => m.name),
        ['w1'],
      );
      const png = readFileSync(join(w.data, 'widget/test/spot/001.png'));
      const scored = await fetch(`${s.url}/v1/models/w1/predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png });
      assert.equal(scored.status, 200);
      assert.equal(typeof ((await scored.json()) as { images: { score: number }[] }).images[0].score, 'number');

      const beat = await readEvents(`${s.url}/v1/jobs/${job.id}/events`, (_ev, n) => n >= 1);
      assert.equal(beat.heartbeats, 1);
      await sleep(100);
      assert.equal(s.runner.listenerCount(), 0);
      assert.deepEqual(strays(modelsDir, ['w1']), []);
    });

    test('cancel stops a running job: state cancelled, no model, no temporaries', async () => {
      const { job } = (await (await postJson(`${s.url}/v1/jobs`, spec('w2', 1000))).json()) as { job: Job };
      await waitFor(s.url, job.id, (j) => j.state === 'running' && j.progress.epoch >= 1);
      const r = await fetch(`${s.url}/v1/jobs/${job.id}/cancel`, { method: 'POST' });
      assert.equal(r.status, 200);
      const cancelled = ((await r.json()) as { job: Job }).job;
      assert.equal(cancelled.state, 'cancelled');
      assert.ok(cancelled.finishedAt);
      assert.deepEqual(strays(modelsDir, ['w1']), [], 'no model w2 and no temporary beside the models');
      const jobFiles = readdirSync(join(modelsDir, '.simplenet-jobs', job.id));
      assert.deepEqual(
        jobFiles.filter((n) => n.startsWith('.')),
        [],
        'no temporary in the job folder',
      );
      const again = await fetch(`${s.url}/v1/jobs/${job.id}/cancel`, { method: 'POST' });
      assert.equal(again.status, 409);
    });

    test('one job at a time, first come first served: the next starts when the running one ends', async () => {
      const a = ((await (await postJson(`${s.url}/v1/jobs`, spec('q1', 1000))).json()) as { job: Job }).job;
      const b = ((await (await postJson(`${s.url}/v1/jobs`, spec('q2', 1))).json()) as { job: Job }).job;
      await waitFor(s.url, a.id, (j) => j.state === 'running' && j.progress.epoch >= 1);
      assert.equal((await getJob(s.url, b.id)).state, 'queued');
      assert.equal((await postJson(`${s.url}/v1/jobs`, spec('q2', 1))).status, 409, 'a queued job holds its name');
      assert.equal((await fetch(`${s.url}/v1/jobs/${b.id}/resume`, { method: 'POST' })).status, 409);
      await fetch(`${s.url}/v1/jobs/${a.id}/cancel`, { method: 'POST' });
      const done = await waitFor(s.url, b.id, (j) => j.state === 'succeeded' || j.state === 'failed');
      assert.equal(done.state, 'succeeded', done.error);
      assert.ok(done.startedAt! >= (await getJob(s.url, a.id)).finishedAt!);
    });

    test('bad specs and data are refused with 400 (409 for a taken name) and create no job', async () => {
      const before = ((await (await fetch(`${s.url}/v1/jobs`)).json()) as { jobs: Job[] }).jobs.length;
      const folders = readdirSync(join(modelsDir, '.simplenet-jobs')).length;
      const cases: [unknown, number, RegExp][] = [
        [spec('x1', 1, { dataset: { format: 'mvtec', path: '../outside', category: 'widget' } }), 400, /without '\.\.'/],
        [spec('x1', 1, { dataset: { format: 'mvtec', path: join(dir, 'outside'), category: 'widget' } }), 400, /relative to the data root/],
        [spec('x1', 1, { dataset: { format: 'mvtec', path: 'link-out', category: 'widget' } }), 400, /outside the data root/],
        [spec('x1', 1, { dataset: { format: 'mvtec', path: 'empty', category: 'widget' } }), 400, /no (good )?training images|no images/],
        [spec('x1', 1, { dataset: { format: 'folder', path: 'notes' } }), 400, /no images/],
        [spec('x1', 1, { dataset: { format: 'nope', path: 'data' } }), 400, /unknown dataset format/],
        [spec('x1', 0), 400, /^epochs:/],
        [spec('x1', 1, { seed: -1 }), 400, /^seed:/],
        [spec('a/b', 1), 400, /^name:/],
        [spec('x1', 1, { preset: 'fast' }), 400, /^preset:/],
        [spec('x1', 1, { extra: true }), 400, /extra/],
        [{ kind: 'train', name: 'x1' }, 400, /^dataset:/],
        ['{not json', 400, /not valid JSON/],
        [spec('w1', 1), 409, /exists/],
      ];
      for (const [body, status, message] of cases) {
        const r = await postJson(`${s.url}/v1/jobs`, body);
        const answer = (await r.json()) as { error: { code: string; message: string } };
        assert.equal(r.status, status, `${JSON.stringify(body)}: ${JSON.stringify(answer)}`);
        assert.match(answer.error.message, message);
      }
      assert.equal(((await (await fetch(`${s.url}/v1/jobs`)).json()) as { jobs: Job[] }).jobs.length, before);
      assert.equal(readdirSync(join(modelsDir, '.simplenet-jobs')).length, folders);
      assert.equal((await fetch(`${s.url}/v1/jobs/j-nope-000000`)).status, 404);
      const spec3 = ((await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, unknown> }).paths;
      for (const p of ['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/events', '/v1/jobs/{id}/cancel', '/v1/jobs/{id}/resume', '/v1/datasets'])
        assert.ok(spec3[p], p);
    });

    test("a job without epochs trains as `simplenet train` would: here the server's --train-config, 3 epochs", async () => {
      const { epochs: _, ...noEpochs } = spec('w3', 1);
      const r = await postJson(`${s.url}/v1/jobs`, noEpochs);
      assert.equal(r.status, 201);
      const { job } = (await r.json()) as { job: Job };
      assert.equal(job.spec.epochs, undefined);
      assert.equal(job.progress.epochs, 0, 'not known before the trainer plans them');
      const done = await waitFor(s.url, job.id, (j) => j.state === 'succeeded' || j.state === 'failed');
      assert.equal(done.state, 'succeeded', done.error);
      assert.deepEqual([done.progress.epochs, done.history.length], [3, 3]);
    });
  });

  test('without --data-root the job routes answer 409 jobs_disabled', async () => {
    const models = new ModelSet(() => modelSources([], [], true), { maxBatch: 1, maxWaitMs: 1, queueLimit: 1 });
    const app = await buildServer({ models, metrics: new ServiceMetrics(() => 0), ready: () => true, reload: () => models.load() });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const guarded = await buildServer({ models, metrics: new ServiceMetrics(() => 0), ready: () => true, reload: () => models.load(), token: 's3cret' });
    const guardedUrl = await guarded.listen({ host: '127.0.0.1', port: 0 });
    try {
      for (const r of [await fetch(`${url}/v1/jobs`), await postJson(`${url}/v1/jobs`, spec('x', 1)), await fetch(`${url}/v1/datasets`)]) {
        assert.equal(r.status, 409);
        assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'jobs_disabled');
      }
      assert.equal((await fetch(`${guardedUrl}/v1/jobs`)).status, 401, 'the token rule covers the job routes');
    } finally {
      await app.close();
      await guarded.close();
    }
  });

  test('a server killed mid-job shows it interrupted after a restart; resume finishes it; SIGTERM mid-job exits 0', async () => {
    const modelsDir = join(dir, 'models-restart');
    const args = ['--data-root', root, '--models-dir', modelsDir, '--train-config', w.config];
    const first = await startChild(args);
    let job: Job;
    try {
      job = ((await (await postJson(`${first.url}/v1/jobs`, spec('r1', 300))).json()) as { job: Job }).job;
      await waitFor(first.url, job.id, (j) => j.progress.epoch >= 3);
    } finally {
      first.child.kill('SIGKILL');
    }
    await first.exited;

    const second = await startChild(args);
    try {
      // The history is the checkpoint's: every epoch up to the one it holds, none missing.
      const interrupted = await waitFor(second.url, job.id, (j) => j.progress.epoch >= 3, 10_000);
      assert.equal(interrupted.state, 'interrupted');
      assert.deepEqual(
        interrupted.history.map((h) => h.epoch),
        Array.from({ length: interrupted.progress.epoch }, (_, i) => i + 1),
      );
      const stream = readEvents(`${second.url}/v1/jobs/${job.id}/events`, (ev) =>
        ev.some((e) => e.event === 'job' && ['succeeded', 'failed'].includes((e.data as Job).state)),
      );
      await sleep(200);
      const r = await fetch(`${second.url}/v1/jobs/${job.id}/resume`, { method: 'POST' });
      assert.equal(r.status, 200);
      const { events } = await stream;
      const done = events.at(-1)!.data as Job;
      assert.equal(done.state, 'succeeded', done.error);
      assert.equal(done.resumes, 1);
      assert.equal(done.progress.epoch, 300);
      assert.deepEqual(
        done.history.map((h) => h.epoch),
        Array.from({ length: 300 }, (_, i) => i + 1),
      );
      // Progress of the resumed run: after its `running` event.
      const started = events.findIndex((e) => e.event === 'job' && (e.data as Job).state === 'running');
      const progress = events
        .slice(started)
        .filter((e) => e.event === 'progress')
        .map((e) => e.data as Job['progress']);
      assert.ok(
        progress.some((p) => /^resuming from .*train\.checkpoint after epoch \d+/.test(p.message ?? '')),
        'resumed from the checkpoint in the job folder',
      );
      const epochsRun = new Set(
        progress
          .map((p) => /^epoch (\d+)\//.exec(p.task ?? '')?.[1])
          .filter(Boolean)
          .map(Number),
      );
      assert.ok(Math.min(...epochsRun) > 1, `the epoch count continues (first epoch run after resume: ${Math.min(...epochsRun)})`);
      const models = (await (await fetch(`${second.url}/v1/models`)).json()) as { models: { name: string }[] };
      assert.ok(models.models.some((m) => m.name === 'r1'));

      const long = ((await (await postJson(`${second.url}/v1/jobs`, spec('r2', 1000))).json()) as { job: Job }).job;
      await waitFor(second.url, long.id, (j) => j.progress.epoch >= 1);
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
      const saved = JSON.parse(readFileSync(join(modelsDir, '.simplenet-jobs', long.id, 'job.json'), 'utf8')) as Job;
      assert.equal(saved.state, 'interrupted');
      assert.deepEqual(strays(modelsDir, ['r1']), []);
    } finally {
      second.child.kill('SIGKILL');
    }
  });
});
