import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GraphBuilder } from '../builder.js';
import { Session } from '../session.js';
import { f32 } from '../tensor.js';
import { testTempDir } from '../../testing/tempDir.js';

/** z = x·W − 20 for x [n, 3]: a graph whose output a run on the wrong thread could not fake. */
function graph(): Uint8Array {
  const g = new GraphBuilder('t');
  const x = g.input('x', 'float32', ['n', 3]);
  const w = g.initializer('w', f32([3, 2], [1, 2, 3, 4, 5, 6]));
  g.output(g.op('Sub', [g.op('MatMul', [x, w]), g.scalarF32(20)]), 'z', 'float32', ['n', 2]);
  return g.toModel({ purpose: 'test' });
}

test('a session in worker threads gives what the session on this thread gives, for runs in flight at once', async () => {
  const here = await Session.create(graph(), 'here');
  const pool = await Session.create(graph(), 'pool', { workers: 2 });
  try {
    assert.deepEqual(pool.inputNames, ['x']);
    assert.deepEqual(pool.outputNames, ['z']);
    const feeds = Array.from({ length: 7 }, (_, i) => f32([2, 3], [i, 1, 0, -i, 0.5, 2]));
    const expected = await Promise.all(feeds.map((x) => here.run({ x })));
    const got = await Promise.all(feeds.map((x) => pool.run({ x }, ['z'])));
    for (let i = 0; i < feeds.length; i++) {
      assert.deepEqual(got[i].z.dims, [2, 2]);
      assert.deepEqual(Array.from(got[i].z.data as Float32Array), Array.from(expected[i].z.data as Float32Array));
    }
    // The caller's input is copied to the worker, not moved: it stays readable here.
    assert.equal((feeds[0].data as Float32Array)[0], 0);
  } finally {
    await here.release();
    await pool.release();
  }
});

test('a failing run in a worker rejects naming the session, and the workers keep serving', async () => {
  const pool = await Session.create(graph(), 'scoring graph', { workers: 1 });
  try {
    await assert.rejects(pool.run({ x: f32([2, 2], [1, 2, 3, 4]) }), /^Error: scoring graph: .*/);
    const out = await pool.run({ x: f32([1, 3], [1, 0, 0]) });
    assert.deepEqual(Array.from(out.z.data as Float32Array), [-19, -18]);
  } finally {
    await pool.release();
  }
  await assert.rejects(pool.run({ x: f32([1, 3], [1, 0, 0]) }), /scoring graph: the session is released/);
});

test('release waits for the runs already asked for', async () => {
  const pool = await Session.create(graph(), 'pool', { workers: 1 });
  const runs = Array.from({ length: 4 }, () => pool.run({ x: f32([1, 3], [0, 0, 1]) }));
  await pool.release();
  for (const r of await Promise.all(runs)) assert.deepEqual(Array.from(r.z.data as Float32Array), [-15, -14]);
});

test('a graph the workers cannot open is an error naming the session', async () => {
  await assert.rejects(Session.create(new Uint8Array([1, 2, 3]), 'broken graph', { workers: 2 }), /^Error: broken graph: onnxruntime could not load the model/);
});

test('a process that never releases its worker session still exits when its work is done', () => {
  const session = new URL('../session.js', import.meta.url).href;
  const builder = new URL('../builder.js', import.meta.url).href;
  const tensor = new URL('../tensor.js', import.meta.url).href;
  const script = `
    const { Session } = await import('${session}');
    const { GraphBuilder } = await import('${builder}');
    const { f32 } = await import('${tensor}');
    const g = new GraphBuilder('t');
    g.output(g.op('Neg', [g.input('x', 'float32', [1])]), 'y', 'float32', [1]);
    const s = await Session.create(g.toModel({ purpose: 'test' }), 'pool', { workers: 2 });
    const out = await s.run({ x: f32([1], [3]) });
    console.log(out.y.data[0]);`;
  const dir = testTempDir('simplenet-workers-');
  const file = join(dir, 'never-released.mjs');
  writeFileSync(file, script);
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.signal, null, 'it exited by itself, not by the timeout');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '-3');
});
