import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeSafetensors } from '../../io/safetensors.js';
import { Session } from '../../onnx/session.js';
import { f32, type HostTensor } from '../../onnx/tensor.js';
import { assertClose, golden, goldenJson, REPO_ROOT } from '../../testing/golden.js';
import { expectedTensors, RESNET_ARCHS, type ResNetArch } from '../resnet-arch.js';
import { buildResNet } from '../resnet.js';

type Case = ResNetArch & { layers: string[] };
const cases = goldenJson<Record<string, Case>>('backbones/cases.json');

function goldenState(name: string): Map<string, HostTensor> {
  const p = join(REPO_ROOT, 'golden', 'backbones', `${name}.safetensors`);
  return decodeSafetensors(readFileSync(p), p).tensors;
}

for (const name of ['bottleneck', 'basic']) {
  test(`${name} ResNet matches PyTorch layer by layer`, async () => {
    const { layers, ...arch } = cases[name];
    const built = buildResNet(goldenState(name), { arch, layers, source: `${name}.safetensors` });
    assert.deepEqual(built.layers, layers);
    const s = await Session.create(built.onnx, name);
    const out = await s.run({ image: golden('backbones/input.npy') });
    for (const l of layers) {
      const want = golden(`backbones/${name}_${l}.npy`);
      assert.deepEqual(out[l].dims, want.dims, l);
      assertClose(out[l].data as Float32Array, want.data as Float32Array, { rtol: 1e-4, label: `${name} ${l}` });
    }
    await s.release();
  });
}

test('the graph stops after the last requested layer and orders outputs finest first', async () => {
  const { layers: _, ...arch } = cases.bottleneck;
  const state = goldenState('bottleneck');
  for (const k of [...state.keys()]) if (k.startsWith('layer3.')) state.delete(k);
  const built = buildResNet(state, { arch, layers: ['layer2', 'layer1'], source: 'b.safetensors' });
  assert.deepEqual(built.layers, ['layer1', 'layer2']);
  assert.deepEqual(built.channels, [256, 512]);
  const s = await Session.create(built.onnx, 'truncated');
  assert.deepEqual([...s.outputNames], ['layer1', 'layer2']);
  const out = await s.run({ image: f32([1, 3, 32, 48]) });
  assert.deepEqual(out.layer1.dims, [1, 256, 8, 12]);
  assert.deepEqual(out.layer2.dims, [1, 512, 4, 6]);
  await s.release();
});

test('state dict problems are reported before building, naming the file and tensor', () => {
  const { layers, ...arch } = cases.bottleneck;
  const build = (edit: (m: Map<string, HostTensor>) => void) => () => {
    const state = goldenState('bottleneck');
    edit(state);
    buildResNet(state, { arch, layers, source: 'wrn.safetensors' });
  };
  assert.throws(
    build((m) => m.delete('layer2.0.bn3.running_var')),
    /^Error: wrn\.safetensors: tensor 'layer2\.0\.bn3\.running_var' is missing$/,
  );
  assert.throws(
    build((m) => m.set('layer2.0.bn3.running_var', f32([256]))),
    /^Error: wrn\.safetensors: tensor 'layer2\.0\.bn3\.running_var' has shape \[256\], expected \[512\]$/,
  );
  assert.throws(
    build((m) => m.set('layer3.0.conv2.weight', f32([64, 64, 1, 3]))),
    /tensor 'layer3\.0\.conv2\.weight' has shape \[64, 64, 1, 3\], expected \[64, 64, 3, 3\]/,
  );
  assert.throws(
    build((m) => m.set('layer2.0.conv4.weight', f32([1]))),
    /wrn\.safetensors: tensor 'layer2\.0\.conv4\.weight' is unexpected/,
  );
  assert.throws(
    build((m) => m.set('layer3.1.conv1.weight', f32([1]))),
    /tensor 'layer3\.1\.conv1\.weight' is unexpected/,
  );
  // What a full torchvision checkpoint carries beyond the built stages is fine.
  build((m) => {
    m.set('layer4.0.conv1.weight', f32([1]));
    m.set('fc.weight', f32([10, 2048]));
    m.set('layer1.0.bn1.num_batches_tracked', f32([]));
  })();
});

test('builtin architectures expect torchvision shapes', () => {
  const wrn = expectedTensors(RESNET_ARCHS.wide_resnet50_2, 3);
  assert.deepEqual(wrn.get('conv1.weight'), [64, 3, 7, 7]);
  assert.deepEqual(wrn.get('layer1.0.conv1.weight'), [128, 64, 1, 1]);
  assert.deepEqual(wrn.get('layer1.0.downsample.0.weight'), [256, 64, 1, 1]);
  assert.deepEqual(wrn.get('layer2.3.bn3.running_var'), [512]);
  assert.deepEqual(wrn.get('layer3.0.conv2.weight'), [512, 512, 3, 3]);
  assert.deepEqual(wrn.get('layer3.5.conv3.weight'), [1024, 512, 1, 1]);
  assert.equal(wrn.has('layer3.6.conv1.weight'), false);
  assert.equal(wrn.has('layer4.0.conv1.weight'), false);
  const r50 = expectedTensors(RESNET_ARCHS.resnet50, 4);
  assert.deepEqual(r50.get('layer4.2.conv2.weight'), [512, 512, 3, 3]);
  assert.equal(r50.size, 1 + 4 + 16 * 5 * 3 + 4 * 5); // stem + 16 blocks × 3 conv+bn + 4 downsamples
  const r18 = expectedTensors(RESNET_ARCHS.resnet18, 4);
  assert.equal(r18.has('layer1.0.downsample.0.weight'), false);
  assert.deepEqual(r18.get('layer2.0.downsample.0.weight'), [128, 64, 1, 1]);
  assert.deepEqual(r18.get('layer4.1.conv2.weight'), [512, 512, 3, 3]);
  assert.equal(expectedTensors(RESNET_ARCHS.wide_resnet101_2, 3).has('layer3.22.bn3.running_var'), true);
});

test('bad layer requests and architectures are rejected', () => {
  const { layers: _, ...arch } = cases.bottleneck;
  const state = goldenState('bottleneck');
  assert.throws(() => buildResNet(state, { arch, layers: ['layer5'], source: 's' }), /unknown layer 'layer5': expected some of layer1/);
  assert.throws(() => buildResNet(state, { arch, layers: [], source: 's' }), /at least one layer/);
  assert.throws(() => buildResNet(state, { arch, layers: ['layer2', 'layer2'], source: 's' }), /name a layer twice/);
  assert.throws(() => buildResNet(state, { arch: { ...arch, block: 'basic' }, source: 's' }), TypeError);
});
