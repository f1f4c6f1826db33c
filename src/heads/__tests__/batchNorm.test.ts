import { test } from 'node:test';
import { GraphBuilder } from '../../onnx/builder.js';
import { Session } from '../../onnx/session.js';
import { assertClose, golden } from '../../testing/golden.js';
import { addBatchNormEval, addBatchNormTrain } from '../batchNormGraph.js';

const g = (name: string) => golden(`heads/bn/${name}.npy`);

test('BatchNorm1d training mode matches PyTorch: output and running stats (unbiased var)', async () => {
  const b = new GraphBuilder('bn_train');
  const x = b.input('x', 'float32', ['n', 8]);
  const ins = ['weight', 'bias', 'running_mean', 'running_var'].map((k) => b.input(k, 'float32', [8]));
  const bn = addBatchNormTrain(b, x, ins[0], ins[1], ins[2], ins[3], { momentum: 0.1, eps: 1e-5 });
  b.output(bn.y, 'y', 'float32');
  b.output(bn.runningMean, 'rm', 'float32');
  b.output(bn.runningVar, 'rv', 'float32');
  const s = await Session.create(b.toModel(), 'bn train test');
  const out = await s.run({ x: g('x'), weight: g('weight'), bias: g('bias'), running_mean: g('running_mean'), running_var: g('running_var') });
  assertClose(out.y.data as Float32Array, g('train_y').data as Float32Array, { label: 'y' });
  assertClose(out.rm.data as Float32Array, g('train_running_mean').data as Float32Array, { label: 'running_mean' });
  assertClose(out.rv.data as Float32Array, g('train_running_var').data as Float32Array, { label: 'running_var' });
});

test('BatchNorm1d eval mode matches PyTorch', async () => {
  const b = new GraphBuilder('bn_eval');
  const x = b.input('x', 'float32', ['n', 8]);
  const ins = ['weight', 'bias', 'running_mean', 'running_var'].map((k) => b.input(k, 'float32', [8]));
  b.output(addBatchNormEval(b, x, ins[0], ins[1], ins[2], ins[3], 1e-5), 'y', 'float32');
  const s = await Session.create(b.toModel(), 'bn eval test');
  const out = await s.run({
    x: g('x'),
    weight: g('weight'),
    bias: g('bias'),
    running_mean: g('train_running_mean'),
    running_var: g('train_running_var'),
  });
  assertClose(out.y.data as Float32Array, g('eval_y').data as Float32Array, { label: 'eval y' });
});
