import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose, golden } from '../../testing/golden.js';
import { runGraph } from '../../testing/runGraph.js';
import { addPatchEmbedding } from '../patchEmbed.js';

const cases = {
  wrn: { pretrainDim: 1536, targetDim: 1536 },
  mnv2: { pretrainDim: 1536, targetDim: 1536 },
  tiny: { pretrainDim: 12, targetDim: 10 },
};

for (const [name, dims] of Object.entries(cases)) {
  test(`patch embedding '${name}' matches the PyTorch reference (unfold, upsample, two poolings)`, async () => {
    const l0 = golden(`pipeline/embed_${name}_layer0.npy`);
    const l1 = golden(`pipeline/embed_${name}_layer1.npy`);
    const shape = (t: typeof l0) => ({ channels: t.dims[1], height: t.dims[2], width: t.dims[3] });
    const [out] = await runGraph({ l0, l1 }, (g, v) => addPatchEmbedding(g, [v.l0, v.l1], [shape(l0), shape(l1)], { patchSize: 3, ...dims }));
    const expected = golden(`pipeline/embed_${name}.npy`);
    assert.equal(out.length, expected.data.length);
    const rel = assertClose(out, expected.data as Float32Array, { rtol: 1e-5, label: name });
    assert.ok(rel < 1e-5);
  });
}
