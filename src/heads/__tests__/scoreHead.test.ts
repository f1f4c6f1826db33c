import { test } from 'node:test';
import { GraphBuilder } from '../../onnx/builder.js';
import { Session } from '../../onnx/session.js';
import type { HostTensor } from '../../onnx/tensor.js';
import { assertClose, golden } from '../../testing/golden.js';
import { type HeadParams, PARAM_NAMES } from '../params.js';
import { addPatchScores, type FoldedHead, foldHead } from '../scoreHead.js';

function trainedParams(): HeadParams {
  const p = {} as HeadParams;
  for (const n of PARAM_NAMES) p[n] = golden(`heads/step/2/${n}.npy`) as HostTensor<'float32'>;
  return p;
}

async function scores(params: HeadParams | FoldedHead, fold: boolean): Promise<Float32Array> {
  const g = new GraphBuilder('score');
  const x = g.input('x', 'float32', ['N', 12]);
  g.output(addPatchScores(g, x, params, { fold }), 's', 'float32', ['N']);
  const s = await Session.create(g.toModel(), 'score test');
  const out = await s.run({ x: golden('heads/score/features.npy') });
  return out.s.data as Float32Array;
}

test('eval-mode scoring head matches the torch modules (−D(adaptor(x)), BN running stats)', async () => {
  const expected = golden('heads/score/scores.npy').data as Float32Array;
  assertClose(await scores(trainedParams(), false), expected, { label: 'unfolded' });
});

test('folded head (float64 fold) agrees with the unfolded head and with torch', async () => {
  const params = trainedParams();
  const expected = golden('heads/score/scores.npy').data as Float32Array;
  const unfolded = await scores(params, false);
  const folded = await foldHead(params);
  assertClose(await scores(folded, true), unfolded, { rtol: 1e-5, label: 'foldHead vs unfolded' });
  assertClose(await scores(params, true), unfolded, { rtol: 1e-5, label: 'in-graph fold vs unfolded' });
  assertClose(await scores(folded, true), expected, { rtol: 1e-5, label: 'folded vs torch' });
});
