import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { GraphBuilder } from '../../onnx/builder.js';
import { Session } from '../../onnx/session.js';
import { f32 } from '../../onnx/tensor.js';
import { REPO_ROOT } from '../../testing/golden.js';
import { resolveBackbone } from '../backbone.js';
import { loadManifestBackbone } from '../manifest.js';
import { testTempDir } from '../../testing/tempDir.js';

const dir = testTempDir('manifest-test-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** A three-output model standing in for a real feature extractor. */
function tinyModel(): Uint8Array {
  const g = new GraphBuilder('tiny');
  const x = g.input('x', 'float32', ['N', 3, 'H', 'W']);
  g.output(g.op('Relu', [x]), 'a', 'float32');
  g.output(g.op('Neg', [x]), 'b', 'float32');
  g.output(g.op('AveragePool', [x], { kernel_shape: [2, 2], strides: [2, 2] }), 'c', 'float32');
  return g.toModel();
}
const model = tinyModel();
writeFileSync(join(dir, 'model.onnx'), model);

const good = { onnx: 'model.onnx', input: 'x', mean: [0.1, 0.2, 0.3], std: [1, 2, 3], layers: ['c', 'a'] };

function manifest(content: unknown, name = 'm.json'): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

test('a valid manifest loads, with the model hash and its layers in the given order', async () => {
  const b = await loadManifestBackbone(manifest(good));
  assert.deepEqual(b.identity, { kind: 'onnx', manifest: good, onnxSha256: createHash('sha256').update(model).digest('hex') });
  assert.equal(b.inputName, 'x');
  assert.deepEqual(b.mean, [0.1, 0.2, 0.3]);
  assert.deepEqual(b.std, [1, 2, 3]);
  assert.deepEqual(b.layers, ['c', 'a']);
  assert.deepEqual(b.onnx, model);
  const viaResolve = await resolveBackbone({ backbone: manifest(good, 'r.json'), layers: ['b'] });
  assert.deepEqual(viaResolve.layers, ['b']);
  await assert.rejects(resolveBackbone({ backbone: manifest(good, 'w.json'), weights: 'x.safetensors' }), /--weights applies to builtin backbones only/);
});

test('manifest errors name the file and the field', async () => {
  const cases: [unknown, RegExp][] = [
    ['{"onnx": "model.onnx",', /m\.json: not valid JSON/],
    [[1], /m\.json: expected a JSON object with fields/],
    [{ ...good, input: undefined }, /^Error: .*m\.json: field 'input' is missing$/],
    [{ ...good, mean: [0.5, 0.5] }, /m\.json: field 'mean': /],
    [{ ...good, std: [1, 0, 1] }, /m\.json: field 'std\[1\]': /],
    [{ ...good, layers: [] }, /m\.json: field 'layers': /],
    [{ ...good, layers: 'a' }, /m\.json: field 'layers': /],
    [{ ...good, extra: 1 }, /m\.json: unknown field 'extra'/],
    [{ ...good, layers: ['a', 'feat_x'] }, /m\.json: layer 'feat_x' is not an output of model\.onnx \(outputs: a, b, c\)$/],
    [{ ...good, input: 'image' }, /m\.json: input 'image' is not an input of model\.onnx \(inputs: x\)/],
    [{ ...good, onnx: 'nope.onnx' }, /m\.json: field 'onnx': cannot read .*nope\.onnx/],
    [{ ...good, layers: ['a', 'a'] }, /m\.json: layers \[a, a\] name a layer twice/],
  ];
  for (const [content, re] of cases) await assert.rejects(loadManifestBackbone(manifest(content)), re);
  writeFileSync(join(dir, 'junk.onnx'), 'not a model');
  await assert.rejects(loadManifestBackbone(manifest({ ...good, onnx: 'junk.onnx' })), /m\.json: junk\.onnx: onnxruntime could not load/);
  await assert.rejects(loadManifestBackbone(join(dir, 'absent.json')), /absent\.json: cannot read the manifest/);
});

test('unknown backbones and builtins without weights are clear errors', async () => {
  await assert.rejects(
    resolveBackbone({ backbone: 'vgg16' }),
    /^Error: unknown backbone 'vgg16': expected one of resnet18, resnet50, wide_resnet50_2, wide_resnet101_2, mobilenet_v2 or a manifest \.json file$/,
  );
  // A path that does not exist says so, naming it (not "unknown backbone").
  const missing = join(dir, 'missing.json');
  await assert.rejects(
    resolveBackbone({ backbone: missing }),
    (e: Error) => e.message === `${missing}: cannot read the backbone manifest: no such file or folder (ENOENT)`,
  );
  await assert.rejects(
    resolveBackbone({ backbone: 'nope/x.json' }),
    (e: Error) => e.message === 'nope/x.json: cannot read the backbone manifest: no such file or folder (ENOENT)',
  );
  await assert.rejects(
    resolveBackbone({ backbone: dir }),
    (e: Error) => e.message === `${dir}: cannot read the backbone manifest: is a folder, expected a file (EISDIR)`,
  );
  // Without --weights a builtin pulls its weights; offline (a proxy that refuses connections) that is one clear error.
  const saved = { ...process.env };
  Object.assign(process.env, {
    SIMPLENET_HOME: join(dir, 'home'),
    HTTPS_PROXY: 'http://127.0.0.1:9',
    https_proxy: 'http://127.0.0.1:9',
    NO_PROXY: '',
    no_proxy: '',
  });
  try {
    await assert.rejects(
      resolveBackbone({ backbone: 'wide_resnet50_2' }),
      /cannot download the wide_resnet50_2 weights[\s\S]*sha256 starting with 95faca4d[\s\S]*wide_resnet50_2-95faca4d\.pth/,
    );
  } finally {
    process.env = saved;
  }
  await assert.rejects(resolveBackbone({ backbone: 'resnet18', weights: join(dir, 'none.safetensors') }), /none\.safetensors: cannot read/);
});

const mobilenet = join(REPO_ROOT, 'backbones', 'mobilenet_v2.json');
const mobilenetOnnx = join(REPO_ROOT, '..', 'shared', 'models', 'mobilenet_v2_1.0_float_onnx', 'mobilenet_v2_1.0_224_float_from_coral_quant.onnx');

test('the shared MobileNetV2 manifest gives stride-8 and stride-16 maps', { skip: !existsSync(mobilenetOnnx) && 'shared models not present' }, async () => {
  const b = await resolveBackbone({ backbone: mobilenet });
  assert.equal(b.identity.kind, 'onnx');
  if (b.identity.kind === 'onnx') assert.equal(b.identity.onnxSha256, 'cd63f89db8c5fcc2227cdf6c120ac958f51e647192691d02818a8d54ea0c0691');
  assert.deepEqual(b.layers, ['feat_s8_expanded', 'feat_s16_expanded']);
  assert.deepEqual(b.mean, [0.5, 0.5, 0.5]);
  const s = await Session.create(b.onnx, 'mobilenet');
  const out = await s.run({ [b.inputName]: f32([1, 3, 288, 288]) }, b.layers);
  assert.deepEqual(out.feat_s8_expanded.dims, [1, 192, 36, 36]);
  assert.deepEqual(out.feat_s16_expanded.dims, [1, 576, 18, 18]);
  await s.release();
});
