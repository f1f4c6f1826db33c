import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../../onnx/builder.js';
import { Session } from '../../onnx/session.js';
import { f32 } from '../../onnx/tensor.js';
import { assertClose, golden } from '../../testing/golden.js';
import { adamFactors, addAdamUpdate } from '../adamGraph.js';

const consts = { beta1: 0.9, beta2: 0.999, adamEps: 1e-8 };

for (const kind of ['adam', 'adamw'] as const) {
  for (const t of [1, 3]) {
    test(`${kind} update at t=${t} matches torch.optim`, async () => {
      const gd = (k: string) => golden(`heads/optim/${kind}_t${t}_${k}.npy`).data as Float32Array;
      const [lr, wd] = Array.from(golden(`heads/optim/${kind}_hparams.npy`).data as Float32Array);
      const b = new GraphBuilder('adam');
      const [p, gr, m, v] = ['p', 'g', 'm', 'v'].map((n) => b.input(n, 'float32', ['n']));
      const sc = ['step', 'bc2', 'extra'].map((n) => b.input(n, 'float32', []));
      const u = addAdamUpdate(
        b,
        p,
        gr,
        m,
        v,
        kind === 'adam' ? { stepSize: sc[0], bc2Sqrt: sc[1], l2: sc[2] } : { stepSize: sc[0], bc2Sqrt: sc[1], decay: sc[2] },
        consts,
      );
      b.output(u.param, 'p2', 'float32');
      b.output(u.expAvg, 'm2', 'float32');
      b.output(u.expAvgSq, 'v2', 'float32');
      const fa = adamFactors(t, lr, wd, consts);
      const s = await Session.create(b.toModel(), 'adam test');
      const n = gd('param').length;
      const out = await s.run({
        p: f32([n], gd('param')),
        g: f32([n], gd('grad')),
        m: f32([n], gd('exp_avg')),
        v: f32([n], gd('exp_avg_sq')),
        step: f32([], [fa.stepSize]),
        bc2: f32([], [fa.bc2Sqrt]),
        extra: f32([], [kind === 'adam' ? fa.l2 : fa.decay]),
      });
      assertClose(out.m2.data as Float32Array, gd('exp_avg_next'), { label: 'exp_avg' });
      assertClose(out.v2.data as Float32Array, gd('exp_avg_sq_next'), { label: 'exp_avg_sq' });
      assertClose(out.p2.data as Float32Array, gd('param_next'), { label: 'param' });
      // The update itself (small against the param) must match too.
      const p0 = gd('param');
      const delta = (a: Float32Array) => Array.from(a, (x, i) => x - p0[i]);
      assertClose(delta(out.p2.data as Float32Array), delta(gd('param_next')), { rtol: 1e-4, label: 'param delta' });
    });
  }
}

test('adamFactors rejects a bad step number and lr', () => {
  assert.throws(() => adamFactors(0, 1e-3, 0, consts), /t must be an integer ≥ 1/);
  assert.throws(() => adamFactors(1, Number.NaN, 0, consts), /lr must be a finite number/);
});
