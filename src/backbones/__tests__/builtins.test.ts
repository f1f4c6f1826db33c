import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodeSafetensors } from '../../io/safetensors.js';
import { Session } from '../../onnx/session.js';
import { f32, type HostTensor } from '../../onnx/tensor.js';
import { REPO_ROOT } from '../../testing/golden.js';
import { resolveBackbone } from '../backbone.js';
import { builtinNames } from '../registry.js';
import { expectedTensors, RESNET_ARCHS } from '../resnet-arch.js';
import { testTempDir } from '../../testing/tempDir.js';

const dir = testTempDir('builtins-test-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** A random resnet18 state dict up to layer2, as a truncated torchvision checkpoint would be. */
function randomResnet18(): Record<string, HostTensor> {
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const out: Record<string, HostTensor> = {};
  for (const [name, shape] of expectedTensors(RESNET_ARCHS.resnet18, 2)) {
    const t = f32(shape);
    const isVar = name.endsWith('running_var') || (name.includes('bn') && name.endsWith('.weight'));
    for (let i = 0; i < t.data.length; i++) t.data[i] = isVar ? 1 + 0.5 * rand() : 0.1 * rand();
    out[name] = t;
  }
  return out;
}

test('the builtins are registered in a stable order', () => {
  assert.deepEqual(builtinNames(), ['resnet18', 'resnet50', 'wide_resnet50_2', 'wide_resnet101_2', 'mobilenet_v2']);
});

test('a builtin ResNet resolves from a safetensors file with ImageNet normalisation', async () => {
  const weights = join(dir, 'r18.safetensors');
  writeFileSync(weights, encodeSafetensors(randomResnet18()));
  const b = await resolveBackbone({ backbone: 'resnet18', weights, layers: ['layer2', 'layer1'] });
  assert.deepEqual(b.identity, {
    kind: 'builtin',
    name: 'resnet18',
    weightsSha256: createHash('sha256').update(readFileSync(weights)).digest('hex'),
  });
  assert.equal(b.inputName, 'image');
  assert.deepEqual(b.mean, [0.485, 0.456, 0.406]);
  assert.deepEqual(b.std, [0.229, 0.224, 0.225]);
  assert.deepEqual(b.layers, ['layer1', 'layer2']);
  const s = await Session.create(b.onnx, 'r18');
  const out = await s.run({ image: f32([2, 3, 64, 32]) });
  assert.deepEqual(out.layer1.dims, [2, 64, 16, 8]);
  assert.deepEqual(out.layer2.dims, [2, 128, 8, 4]);
  await s.release();
  // Default layers are layer2 and layer3, and this file stops at layer2.
  await assert.rejects(resolveBackbone({ backbone: 'resnet18', weights }), /r18\.safetensors: tensor 'layer3\.0\.conv1\.weight' is missing/);
});

test('weights of another architecture fail on the first mismatching tensor', async () => {
  const weights = join(REPO_ROOT, 'golden', 'backbones', 'bottleneck.safetensors');
  await assert.rejects(
    resolveBackbone({ backbone: 'wide_resnet50_2', weights }),
    /bottleneck\.safetensors: tensor 'layer1\.0\.conv1\.weight' has shape \[16, 64, 1, 1\], expected \[128, 64, 1, 1\]$/,
  );
  await assert.rejects(
    resolveBackbone({ backbone: 'resnet18', weights }),
    /bottleneck\.safetensors: tensor 'layer1\.0\.conv1\.weight' has shape \[16, 64, 1, 1\], expected \[64, 64, 3, 3\]/,
  );
});
