/**
 * The packaged `mobilenet_v2` backbone: found offline from the compiled module, the same features
 * as the manifest backbone (backbones/mobilenet_v2.json) through `simplenet embed`, layer
 * overrides, --weights refused, and a damaged file named with its checksum.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { decodeNpy } from '../../io/npy.js';
import { REPO_ROOT } from '../../testing/golden.js';
import { patternImage } from '../../testing/patterns.js';
import { resolveBackbone } from '../backbone.js';
import { MOBILENET_V2, packagedFactory, packagedPath, readPackaged } from '../packaged.js';
import { testTempDir } from '../../testing/tempDir.js';

const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');
const dir = testTempDir('mobilenet-v2-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** A dead proxy and an empty cache: nothing may come from the network or the weights cache. */
const OFFLINE = {
  HTTPS_PROXY: 'http://127.0.0.1:9',
  HTTP_PROXY: 'http://127.0.0.1:9',
  https_proxy: '',
  http_proxy: '',
  NO_PROXY: '',
  no_proxy: '',
  SIMPLENET_HOME: join(dir, 'empty-home'),
};

function simplenet(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...OFFLINE, CI: 'true' }, encoding: 'utf8' });
  assert.equal(r.status, 0, `simplenet ${args.join(' ')}: ${r.stderr}`);
  return r;
}

test('the package holds the model at the path the compiled module resolves', () => {
  assert.equal(packagedPath(MOBILENET_V2), join(REPO_ROOT, 'models', 'mobilenet_v2', 'mobilenet_v2.onnx'));
  assert.ok(existsSync(join(REPO_ROOT, 'models', 'mobilenet_v2', 'SOURCES.md')));
  assert.ok(existsSync(join(REPO_ROOT, 'models', 'mobilenet_v2', 'LICENSE.google-coral-test_data.Apache-2.0')));
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[] };
  assert.ok(pkg.files.includes('models'), `package.json "files" ships models/: ${pkg.files.join(', ')}`);
});

test('--backbone mobilenet_v2 gives the same features as the manifest backbone, offline', async () => {
  const image = join(dir, 'part.png');
  await sharp(Buffer.from(patternImage(80, 70)), { raw: { width: 80, height: 70, channels: 3 } })
    .png()
    .toFile(image);
  const config = join(dir, 'small.json');
  writeFileSync(config, JSON.stringify({ image: { resize: 72, crop: 64 } }));
  // The repository's manifest points at the shared copy; where that is absent, the same manifest
  // pointing at the packaged file still proves the builtin reads it as a manifest would.
  let manifest = join(REPO_ROOT, 'backbones', 'mobilenet_v2.json');
  const fields = JSON.parse(readFileSync(manifest, 'utf8')) as { onnx: string };
  if (!existsSync(resolve(REPO_ROOT, 'backbones', fields.onnx))) {
    manifest = join(dir, 'mobilenet_v2.json');
    writeFileSync(manifest, JSON.stringify({ ...fields, onnx: packagedPath(MOBILENET_V2) }));
  }
  const out: Record<string, Float32Array> = {};
  for (const [name, backbone] of [
    ['builtin', 'mobilenet_v2'],
    ['manifest', manifest],
  ]) {
    const file = join(dir, `${name}.npy`);
    const r = simplenet(['embed', '--backbone', backbone, '--image', image, '--out', file, '--config', config]);
    assert.deepEqual(JSON.parse(r.stdout).shape, [64, 1536]);
    out[name] = decodeNpy(readFileSync(file), file).data as Float32Array;
  }
  assert.deepEqual(out.builtin, out.manifest);
  assert.ok(out.builtin.some((v) => v !== 0));
});

test('identity, normalisation and a layer override', async () => {
  const b = await resolveBackbone({ backbone: 'mobilenet_v2' });
  assert.deepEqual(b.identity, { kind: 'builtin', name: 'mobilenet_v2', weightsSha256: MOBILENET_V2.sha256 });
  assert.equal(b.inputName, 'input');
  assert.deepEqual(
    [b.mean, b.std],
    [
      [0.5, 0.5, 0.5],
      [0.5, 0.5, 0.5],
    ],
  );
  assert.deepEqual(b.layers, ['feat_s8_expanded', 'feat_s16_expanded']);
  const other = await resolveBackbone({ backbone: 'mobilenet_v2', layers: ['feat_s8', 'feat_s16'] });
  assert.deepEqual(other.layers, ['feat_s8', 'feat_s16']);
  await assert.rejects(
    resolveBackbone({ backbone: 'mobilenet_v2', layers: ['layer2'] }),
    /backbone 'mobilenet_v2': layer 'layer2' is not an output of .*mobilenet_v2\.onnx \(outputs: .*feat_s8_expanded/,
  );
  await assert.rejects(resolveBackbone({ backbone: 'mobilenet_v2', weights: 'x.pth' }), /backbone 'mobilenet_v2' ships with its own weights/);
});

test('a damaged or missing model file is an error naming it', async () => {
  const damaged = join(dir, 'damaged.onnx');
  copyFileSync(packagedPath(MOBILENET_V2), damaged);
  const bytes = readFileSync(damaged);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(damaged, bytes);
  const spec = { ...MOBILENET_V2, file: pathToFileURL(damaged) };
  await assert.rejects(
    readPackaged(spec),
    new RegExp(
      `^Error: ${damaged.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the model of backbone 'mobilenet_v2' is damaged: sha256 [0-9a-f]{64} \\(14377949 bytes\\), expected ${MOBILENET_V2.sha256}; reinstall`,
    ),
  );
  const missing = { ...MOBILENET_V2, file: pathToFileURL(join(dir, 'nope.onnx')) };
  await assert.rejects(packagedFactory(missing)({}), /nope\.onnx: cannot read the model of backbone 'mobilenet_v2' .*no such file/);
});

test('an unknown backbone name lists mobilenet_v2', async () => {
  await assert.rejects(
    resolveBackbone({ backbone: 'mobilenet_v3' }),
    /unknown backbone 'mobilenet_v3': expected one of .*wide_resnet50_2.*, mobilenet_v2 or a manifest/,
  );
});
