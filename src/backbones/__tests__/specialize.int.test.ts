/**
 * The shared MobileNetV2 (converted from TensorFlow: "SAME" padding computed from shapes before
 * each of its 53 convolutions) specialised to the crop: the shape arithmetic and the Pads are gone,
 * the taps are the same.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeModel } from '../../onnx/decode.js';
import { Session } from '../../onnx/session.js';
import { f32 } from '../../onnx/tensor.js';
import { REPO_ROOT } from '../../testing/golden.js';
import { loadManifestBackbone } from '../manifest.js';
import { specializedBackbone } from '../specialize.js';

const backbone = await loadManifestBackbone(join(REPO_ROOT, 'backbones/mobilenet_v2.json'));

test('the specialised MobileNetV2 has no shape arithmetic or Pad left and computes the same taps', async () => {
  const bytes = await specializedBackbone(backbone, 160);
  assert.equal(await specializedBackbone(backbone, 160), bytes, 'computed once per size');
  const original = decodeModel(backbone.onnx).graph;
  const graph = decodeModel(bytes).graph;
  const count = (op: string) => graph.nodes.filter((n) => n.opType === op).length;
  assert.equal(count('Shape'), 0);
  assert.equal(count('Pad'), 0);
  assert.ok(graph.nodes.length < original.nodes.length / 10, `${graph.nodes.length} nodes of ${original.nodes.length}`);
  assert.deepEqual(
    graph.outputs.map((o) => o.name),
    backbone.layers,
  );

  const n = 2;
  const x = f32(
    [n, 3, 160, 160],
    Float32Array.from({ length: n * 3 * 160 * 160 }, (_, i) => Math.sin(i * 0.013) * 0.9),
  );
  const taps = async (model: Uint8Array) => {
    const s = await Session.create(model, 'mobilenet_v2');
    try {
      return await s.run({ [backbone.inputName]: x }, backbone.layers);
    } finally {
      await s.release();
    }
  };
  const before = await taps(backbone.onnx);
  const after = await taps(bytes);
  for (const l of backbone.layers) {
    assert.deepEqual(after[l].dims, before[l].dims, l);
    const a = after[l].data as Float32Array;
    const b = before[l].data as Float32Array;
    let diff = 0;
    let peak = 0;
    for (let i = 0; i < b.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
      peak = Math.max(peak, Math.abs(b[i]));
    }
    assert.ok(diff <= 1e-5 * peak, `${l}: max difference ${diff} (peak ${peak})`);
  }
});

test('a layer that is not an output of the ONNX is named', async () => {
  await assert.rejects(specializedBackbone({ ...backbone, layers: ['feat_s8_expanded', 'no_such'] }, 160), /backbone: layer 'no_such' is not an output/);
});
