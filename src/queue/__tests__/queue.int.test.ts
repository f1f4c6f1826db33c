/**
 * The Redis queue end to end (issue 17), on a throwaway redis-server with a password: two worker
 * processes share a 2-category × 2-seed benchmark (real bottle images, downscaled, and a grey copy)
 * and match a local run; a worker killed with -9 mid-training hands its job to the other, which
 * resumes from the checkpoint; 200 images scored in chunks of 50 over two workers give exactly a
 * local predict's output; an unreachable Redis is one clear error; the password is never printed.
 * Skips without redis-server or without the bottle data.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TaskQueue } from '../taskQueue.js';
import { BOTTLE_MISSING, bottleImages, makeBottleSubset } from '../../testing/bottleSubset.js';
import { CLI, runCli, tinyWorkspace } from '../../testing/cli.js';
import { REPO_ROOT } from '../../testing/golden.js';
import { hasRedisServer, REDIS_MISSING, startRedis, type TestRedis } from '../../testing/redis.js';
import { testTempDir } from '../../testing/tempDir.js';

const PASSWORD = 'pa55-w0rd-secret';
const skip = !hasRedisServer() ? REDIS_MISSING : BOTTLE_MISSING;
const BACKBONE = join(REPO_ROOT, 'backbones', 'mobilenet_v2.json');
/** Machine-dependent columns: everything else must be equal between a local and a queued run. */
const TIMING = new Set(['train_seconds', 'test_images_per_second', 'quality_seconds']);

interface Worker {
  child: ChildProcess;
  log: () => string;
  exited: Promise<void>;
}

function startWorker(url: string, queue: string): Worker {
  const child = spawn(process.execPath, [CLI, 'worker', '--redis', url, '--queue', queue, '--lock-duration', '3000', '--stalled-interval', '1000'], {
    env: { ...process.env, CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, log: () => text, exited };
}

async function stopWorker(w: Worker): Promise<void> {
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  await w.exited;
}

/** `simplenet <args>` in the background (spawnSync would block the event loop the test needs). */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function comparable(csv: string): string[] {
  const [head, ...rows] = csv
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  const keep = head.map((h, i) => (TIMING.has(h) ? -1 : i)).filter((i) => i >= 0);
  return rows.map((r) => keep.map((i) => `${head[i]}=${r[i]}`).join(','));
}

function temporaries(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((p) => /\.sn-[0-9a-f]{6}-\d+-/.test(p));
}

describe('the Redis job queue', { skip }, () => {
  let redis: TestRedis;
  let dir: string;
  let data: string;
  let config: string;
  const logs: string[] = [];

  before(async () => {
    redis = await startRedis(PASSWORD);
    dir = testTempDir('simplenet-queue-');
    data = join(dir, 'data');
    await makeBottleSubset(data, 'bottle');
    await makeBottleSubset(data, 'bottlegrey', { grey: true });
    config = join(dir, 'small.json');
    writeFileSync(config, JSON.stringify({ image: { resize: 80, crop: 64 } }));
  });

  after(async () => {
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    // Whatever was printed or logged anywhere in these tests: never the password.
    for (const text of logs) assert.ok(!text.includes(PASSWORD), `the Redis password was printed: ${text.slice(0, 200)}`);
  });

  test('two workers share a 2 × 2 benchmark: every run once, results equal a local run', async () => {
    const args = [
      'benchmark',
      '--data',
      data,
      '--categories',
      'bottle,bottlegrey',
      '--seeds',
      '0,1',
      '--backbone',
      BACKBONE,
      '--config',
      config,
      '--epochs',
      '1',
    ];
    const local = await cli([...args, '--out', join(dir, 'local'), '--quiet']);
    assert.equal(local.code, 0, local.stderr);
    const workers = [startWorker(redis.url, 'bench'), startWorker(redis.url, 'bench')];
    try {
      const queued = await cli([...args, '--out', join(dir, 'queued'), '--redis', redis.url, '--queue', 'bench']);
      logs.push(queued.stdout, queued.stderr);
      assert.equal(queued.code, 0, queued.stderr);
      assert.deepEqual(
        comparable(readFileSync(join(dir, 'queued', 'results.csv'), 'utf8')),
        comparable(readFileSync(join(dir, 'local', 'results.csv'), 'utf8')),
      );
      assert.match(readFileSync(join(dir, 'queued', 'results.md'), 'utf8'), /\| bottlegrey \| 2 \|/);
      assert.match(queued.stderr, /\[job \d+\] benchmark bottle seed 0: done \(trained\)/);
    } finally {
      await Promise.all(workers.map(stopWorker));
    }
    const log = workers.map((w) => w.log()).join('\n');
    logs.push(log);
    for (const run of ['bottle seed 0', 'bottle seed 1', 'bottlegrey seed 0', 'bottlegrey seed 1']) {
      assert.equal(log.split(`(benchmark ${run}): done (trained)`).length - 1, 1, `${run} trained once: ${log}`);
    }
    assert.doesNotMatch(log, /done \((tested|stored)\)/);
    assert.ok(
      workers.every((w) => /started/.test(w.log())),
      'both workers took jobs',
    );
    assert.deepEqual(temporaries(join(dir, 'queued')), []);
  });

  test('a worker killed with -9 mid-training: the other resumes from the checkpoint; one model, no temporaries', async () => {
    const out = join(dir, 'killed');
    const q = await TaskQueue.open(redis.url, 'kill');
    const workers = [startWorker(redis.url, 'kill'), startWorker(redis.url, 'kill')];
    try {
      const id = await q.add({
        kind: 'benchmark-run',
        dataset: { format: 'mvtec', root: data, category: 'bottle' },
        category: 'bottle',
        seed: 0,
        backbone: BACKBONE,
        config: (await import('../../model/config.js')).parseConfig({ image: { resize: 80, crop: 64 }, train: { epochs: 8 } }) as unknown as Record<
          string,
          unknown
        >,
        out,
      });
      // Kill whoever runs it once its checkpoint holds two epochs.
      let victim: Worker | undefined;
      const deadline = Date.now() + 120_000;
      while (!victim && Date.now() < deadline) {
        const info = await q.show(id);
        const p = info.progress;
        if (p && p.progress.epoch >= 2 && p.worker) victim = workers.find((w) => p.worker?.endsWith(`:${w.child.pid}`));
        else await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(victim, 'the job reached epoch 2 on a worker');
      victim.child.kill('SIGKILL');
      await victim.exited;
      const [result] = (await q.waitAll([id])) as { did: string }[];
      assert.equal(result.did, 'trained');
      const survivor = workers.find((w) => w !== victim) as Worker;
      // Give the survivor's log a moment to flush its last line.
      await new Promise((r) => setTimeout(r, 300));
      logs.push(survivor.log(), victim.log());
      assert.match(survivor.log(), /resuming from .*bottle_seed0\.checkpoint after epoch [2-8]/);
      assert.match(survivor.log(), /\(benchmark bottle seed 0\): done \(trained\)/);
      assert.deepEqual(readdirSync(join(out, 'models', 'bottle')), ['seed0']);
      assert.ok(existsSync(join(out, 'runs', 'bottle_seed0.json')));
      assert.deepEqual(temporaries(out), []);
      // The job ran once more, not twice more, and the checkpoint is gone with the finished model.
      assert.ok(!existsSync(join(out, 'checkpoints', 'bottle_seed0.checkpoint')));
    } finally {
      await q.close();
      await Promise.all(workers.map(stopWorker));
    }
  });

  test('200 images in chunks of 50 over two workers: exactly the scores of one local predict', async () => {
    const images = join(dir, 'images');
    await bottleImages(images, 200);
    const model = join(dir, 'local', 'models', 'bottle', 'seed0');
    const local = await cli(['predict', '--json', '--model', model, images, '--quiet']);
    assert.equal(local.code, 0, local.stderr);
    const workers = [startWorker(redis.url, 'score'), startWorker(redis.url, 'score')];
    try {
      const queued = await cli([
        'predict',
        '--json',
        '--model',
        model,
        images,
        '--redis',
        redis.url,
        '--queue',
        'score',
        '--out',
        join(dir, 'scores'),
        '--chunk',
        '50',
      ]);
      logs.push(queued.stdout, queued.stderr);
      assert.equal(queued.code, 0, queued.stderr);
      assert.equal(queued.stdout.trim().split('\n').length, 200);
      assert.equal(queued.stdout, local.stdout);
      assert.equal(readdirSync(join(dir, 'scores', 'chunks')).length, 4);
    } finally {
      await Promise.all(workers.map(stopWorker));
    }
    logs.push(...workers.map((w) => w.log()));
  });

  test('jobs: a job that fails every attempt is kept with its error; list, show and retry see it', async () => {
    const q = await TaskQueue.open(redis.url, 'fail');
    const worker = startWorker(redis.url, 'fail');
    try {
      const id = await q.add({ kind: 'score-chunk', model: join(dir, 'no-such-model'), images: [join(dir, 'x.png')], out: join(dir, 'fail.jsonl') }, 2);
      await assert.rejects(q.waitAll([id]), /failed after 2 attempts: .*no-such-model/);
      const show = runCli(['jobs', 'show', id, '--redis', redis.url, '--queue', 'fail', '--json']);
      logs.push(show.stdout, show.stderr);
      assert.equal(show.code, 0, show.stderr);
      const info = JSON.parse(show.stdout);
      assert.equal(info.state, 'failed');
      assert.equal(info.attempts, 2);
      assert.match(info.error, /no-such-model/);
      const list = runCli(['jobs', 'list', '--redis', redis.url, '--queue', 'fail']);
      logs.push(list.stdout, list.stderr);
      assert.match(list.stdout, new RegExp(`^${id}\\tfailed\\tattempts 2\\t`, 'm'));
      const retry = runCli(['jobs', 'retry', id, '--redis', redis.url, '--queue', 'fail']);
      logs.push(retry.stdout, retry.stderr);
      assert.equal(retry.code, 0, retry.stderr);
    } finally {
      await q.close();
      await stopWorker(worker);
      logs.push(worker.log());
    }
  });

  test('serve --redis: a web-app training job runs on a worker and its model is served', async () => {
    const root = join(dir, 'served');
    const w = await tinyWorkspace(root);
    const worker = startWorker(redis.url, 'web');
    const serve = spawn(
      process.execPath,
      [
        CLI,
        'serve',
        '--models-dir',
        join(root, 'models'),
        '--data-root',
        root,
        '--train-config',
        w.config,
        '--port',
        '0',
        '--redis',
        redis.url,
        '--redis-queue',
        'web',
        '--quiet',
      ],
      { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    serve.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((resolve) => serve.once('exit', () => resolve()));
    try {
      for (let i = 0; i < 200 && !/ at (http:\S+)/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
      const base = / at (http:\S+)/.exec(err)?.[1];
      assert.ok(base, err);
      const posted = await fetch(`${base}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          kind: 'train',
          name: 'widget-q',
          dataset: { format: 'mvtec', path: 'data', category: 'widget' },
          backbone: 'backbone/tiny.json',
          epochs: 2,
        }),
      });
      assert.equal(posted.status, 201, await posted.clone().text());
      const { job } = (await posted.json()) as { job: { id: string } };
      let state = '';
      for (let i = 0; i < 300 && !['succeeded', 'failed'].includes(state); i++) {
        await new Promise((r) => setTimeout(r, 200));
        state = ((await (await fetch(`${base}/v1/jobs/${job.id}`)).json()) as { job: { state: string } }).job.state;
      }
      assert.equal(state, 'succeeded', worker.log());
      const models = await (await fetch(`${base}/v1/models`)).text();
      assert.match(models, /widget-q/);
      assert.match(worker.log(), /done/);
    } finally {
      serve.kill('SIGTERM');
      await exited;
      await stopWorker(worker);
      logs.push(err, worker.log());
    }
  });

  test('an unreachable Redis is one error naming the URL, password masked, within seconds', () => {
    const url = `redis://:${PASSWORD}@127.0.0.1:${redis.port + 1}`;
    for (const args of [
      ['jobs', 'list', '--redis', url],
      ['worker', '--redis', url],
      ['predict', '--model', 'm', join(dir, 'images'), '--redis', url, '--out', join(dir, 'nowhere')],
    ]) {
      const started = Date.now();
      const r = runCli(args);
      logs.push(r.stdout, r.stderr);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr, `simplenet: cannot reach Redis at redis://:***@127.0.0.1:${redis.port + 1} (connect ECONNREFUSED 127.0.0.1:${redis.port + 1})\n`);
      assert.ok(Date.now() - started < 10_000, `${args[0]} took ${Date.now() - started} ms`);
    }
    const wrong = runCli(['jobs', 'list', '--redis', `redis://:not-${PASSWORD}@127.0.0.1:${redis.port}`]);
    logs.push(wrong.stderr);
    assert.match(wrong.stderr, /^simplenet: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(WRONGPASS/);
  });
});
