import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../builder.js';
import { Session } from '../session.js';
import { f32 } from '../tensor.js';

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
