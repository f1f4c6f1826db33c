import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose, golden } from '../../testing/golden.js';
import { patternImage } from '../../testing/patterns.js';
import { smallResNet } from '../../testing/smallBackbone.js';
import { FeatureExtractor } from '../featureExtractor.js';
import { DEFAULT_PATCH_EMBED } from '../patchEmbed.js';

test('image → preprocessing → bottleneck ResNet → patch embedding matches PyTorch to 1e-4', async () => {
  const fx = await FeatureExtractor.create(smallResNet(), { image: { resize: 72, crop: 64 }, embed: DEFAULT_PATCH_EMBED });
  assert.deepEqual(fx.grid, { height: 8, width: 8 });
  const features = await fx.extract([{ data: patternImage(90, 75), width: 90, height: 75, channels: 3 }]);
  assert.deepEqual(features.dims, [64, 1536]);
  const rel = assertClose(features.data as Float32Array, golden('pipeline/e2e_bottleneck_90x75_72_64.npy').data as Float32Array, {
    rtol: 1e-4,
    label: 'embedding',
  });
  assert.ok(rel < 1e-4);
  await fx.release();
});

test('float16 features are the float32 features rounded', async () => {
  const fx = await FeatureExtractor.create(smallResNet(), { image: { resize: 72, crop: 64 }, embed: DEFAULT_PATCH_EMBED });
  const image = { data: patternImage(90, 75), width: 90, height: 75, channels: 3 as const };
  const full = (await fx.extract([image])).data as Float32Array;
  await fx.setFeatureDtype('float16');
  const half = await fx.extract([image]);
  assert.equal(half.type, 'float16');
  const bits = half.data as Uint16Array;
  assert.equal(bits.length, full.length);
  for (let i = 0; i < full.length; i += 97) {
    const h = bits[i];
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    const v = (h & 0x8000 ? -1 : 1) * (exp === 0 ? mant * 2 ** -24 : (1 + mant / 1024) * 2 ** (exp - 15));
    assert.ok(Math.abs(v - full[i]) <= Math.abs(full[i]) * 2 ** -11 + 2 ** -24, `element ${i}: ${v} vs ${full[i]}`);
  }
  await fx.release();
});

test('after releaseSessions the next extract reopens the sessions and gives the same bits; after release it refuses', async () => {
  const fx = await FeatureExtractor.create(smallResNet(), { image: { resize: 72, crop: 64 }, embed: DEFAULT_PATCH_EMBED });
  const image = { data: patternImage(90, 75), width: 90, height: 75, channels: 3 as const };
  const before = (await fx.extract([image])).data as Float32Array;
  await fx.releaseSessions();
  await fx.releaseSessions(); // twice is harmless
  const after = (await fx.extract([image])).data as Float32Array;
  assert.deepEqual(new Uint32Array(after.buffer, after.byteOffset, after.length), new Uint32Array(before.buffer, before.byteOffset, before.length));
  // A dtype chosen while released is the one the reopened embedding uses.
  await fx.releaseSessions();
  await fx.setFeatureDtype('float16');
  assert.equal((await fx.extract([image])).type, 'float16');
  await fx.release();
  await assert.rejects(fx.extract([image]), /used after release/);
});
