/** `simplenet weights list|pull|import` and the builtin default weights, end to end (all on 127.0.0.1). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { resolveBackbone } from '../../backbones/backbone.js';
import { expectedTensors, RESNET_ARCHS } from '../../backbones/resnet-arch.js';
import { encodeSafetensors } from '../../io/safetensors.js';
import { type HostTensor, numel, tensor } from '../../onnx/tensor.js';
import { REPO_ROOT } from '../../testing/golden.js';
import { testTempDir } from '../../testing/tempDir.js';

const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');
const G = join(REPO_ROOT, 'golden', 'weights');
const dir = testTempDir('weights-cli-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** The machine's proxy variables must not leak in; a dead proxy proves nothing goes to the network. */
const OFFLINE = { HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', https_proxy: '', http_proxy: '', NO_PROXY: '', no_proxy: '' };

/** Async (the test's own HTTP server must keep answering while the CLI runs). */
function simplenet(home: string, args: string[], env: Record<string, string> = OFFLINE): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env, SIMPLENET_HOME: home, CI: 'true' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const cacheFiles = (home: string) => (existsSync(join(home, 'weights')) ? readdirSync(join(home, 'weights')).sort() : []);

/** A complete resnet18 state dict (float16 ones: content does not matter, shapes do), as timm's safetensors would be. */
function fullResnet18(): Uint8Array {
  const out: Record<string, HostTensor> = {};
  for (const [name, shape] of expectedTensors(RESNET_ARCHS.resnet18, 4)) out[name] = tensor('float16', shape, new Uint16Array(numel(shape)).fill(0x3c00));
  return encodeSafetensors(out);
}

const body = readFileSync(join(G, 'tiny.safetensors'));
const sha = createHash('sha256').update(body).digest('hex');
const requests: string[] = [];
const server = http.createServer((req, res) => {
  requests.push(req.url ?? '');
  res.writeHead(200, { 'content-length': String(body.length) }).end(body);
});
let base = '';
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

test('list shows every known name, not cached, with where it would go', async () => {
  const home = join(dir, 'h-list');
  const r = await simplenet(home, ['weights', 'list']);
  assert.equal(r.code, 0, r.stderr);
  for (const [name, hash] of [
    ['wide_resnet50_2', '95faca4d'],
    ['resnet18', 'f37072fd'],
    ['resnet50', '0676ba61'],
    ['wide_resnet101_2', '32ee1156'],
  ]) {
    assert.ok(r.stdout.includes(`${join(home, 'weights', `${name}-${hash}.pth`)}`), r.stdout);
    assert.ok(r.stdout.includes(`https://download.pytorch.org/models/${name}-${hash}.pth`), r.stdout);
  }
  assert.match(r.stdout, /^wide_resnet50_2 +not cached/m);
  const j = JSON.parse((await simplenet(home, ['weights', 'list', '--json'])).stdout);
  assert.equal(j.home, home);
  assert.deepEqual(
    j.weights.map((w: { name: string }) => w.name),
    ['wide_resnet50_2', 'resnet18', 'resnet50', 'wide_resnet101_2'],
  );
});

test('pull --url --sha256 downloads with progress on stderr; pulling again makes no request', async () => {
  const home = join(dir, 'h-pull');
  const env = { ...OFFLINE, HTTP_PROXY: '' };
  const r = await simplenet(home, ['weights', 'pull', 'resnet18', '--url', `${base}/x.safetensors`, '--sha256', sha], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /resnet18 x\.safetensors .*kB\/s/);
  const out = JSON.parse(r.stdout);
  assert.equal(out.path, join(home, 'weights', 'resnet18.safetensors'));
  assert.equal(out.downloaded, true);
  const n = requests.length;
  const again = await simplenet(home, ['weights', 'pull', 'resnet18', '--url', `${base}/x.safetensors`, '--sha256', sha], env);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).downloaded, false);
  assert.equal(requests.length, n);
  assert.match((await simplenet(home, ['weights', 'list'])).stdout, /^resnet18 +cached \(imported\) +\S+resnet18\.safetensors$/m);
});

test('offline: the builtin default pull fails with the URL, checksum and manual path', async () => {
  const home = join(dir, 'h-offline');
  const r = await simplenet(home, ['embed', '--backbone', 'wide_resnet50_2', '--image', join(dir, 'none.png'), '--out', join(dir, 'o.npy')]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /cannot download the wide_resnet50_2 weights \(https:\/\/download\.pytorch\.org\/models\/wide_resnet50_2-95faca4d\.pth: proxy 127\.0\.0\.1:9: .*ECONNREFUSED/,
  );
  assert.match(r.stderr, /sha256 starting with 95faca4d/);
  assert.ok(r.stderr.includes(join(home, 'weights', 'wide_resnet50_2-95faca4d.pth')), r.stderr);
  assert.deepEqual(cacheFiles(home), []);
});

test('import refuses bad files with one line naming the file and the first offending tensor; the cache is untouched', async () => {
  const home = join(dir, 'h-bad');
  const notCkpt = join(dir, 'notes.txt');
  writeFileSync(notCkpt, 'just some text, not a checkpoint at all');
  const truncated = join(dir, 'resnet18-cut.pth');
  writeFileSync(truncated, readFileSync(join(G, 'resnet18_layer1.pth')).subarray(0, 100_000));
  const extra = join(dir, 'extra.safetensors');
  const withExtra = new Map(Object.entries({ 'head.weight': tensor('float32', [1], new Float32Array(1)) }));
  writeFileSync(extra, encodeSafetensors(Object.fromEntries(withExtra)));
  const cases: [string[], RegExp][] = [
    [[join(G, 'tiny_legacy.pth'), '--name', 'resnet18'], /tiny_legacy\.pth: tensor 'conv1\.weight' has shape \[4, 3, 3, 3\], expected \[64, 3, 7, 7\]/],
    [[join(G, 'resnet18_layer1.pth'), '--name', 'resnet18'], /resnet18_layer1\.pth: tensor 'layer2\.0\.conv1\.weight' is missing/],
    [[truncated], /resnet18-cut\.pth: not a readable zip archive/],
    [[notCkpt, '--name', 'resnet18'], /notes\.txt: not a weights file/],
    [[join(G, 'evil_zip.pth'), '--name', 'resnet50'], /evil_zip\.pth: refusing to load: the pickle references 'posix\.system'/],
    [[join(G, 'tiny.safetensors')], /tiny\.safetensors: cannot tell which backbone/],
    [[join(G, 'tiny.safetensors'), '--name', 'vgg16'], /unknown weights 'vgg16': expected one of wide_resnet50_2, resnet18/],
  ];
  for (const [args, re] of cases) {
    const r = await simplenet(home, ['weights', 'import', ...args]);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.deepEqual(cacheFiles(home), []);
});

test('import of a complete state dict caches it; the builtin then uses it without network access', async () => {
  const home = join(dir, 'h-import');
  const file = join(dir, 'resnet18.tv_in1k.safetensors');
  writeFileSync(file, fullResnet18());
  const r = await simplenet(home, ['weights', 'import', file]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.name, 'resnet18');
  assert.equal(out.official, false);
  assert.equal(out.path, join(home, 'weights', 'resnet18.safetensors'));
  assert.match(r.stderr, /not torchvision's own file/);
  const saved = { ...process.env };
  Object.assign(process.env, OFFLINE, { SIMPLENET_HOME: home });
  try {
    const b = await resolveBackbone({ backbone: 'resnet18' });
    assert.equal(b.identity.kind === 'builtin' && b.identity.weightsSha256, createHash('sha256').update(readFileSync(file)).digest('hex'));
  } finally {
    process.env = saved;
  }
});

test('a damaged file in the official slot is reported, not used', async () => {
  const home = join(dir, 'h-damaged');
  const official = join(home, 'weights', 'resnet18-f37072fd.pth');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(home, 'weights'), { recursive: true });
  writeFileSync(official, readFileSync(join(G, 'resnet18_layer1.pth')));
  const r = await simplenet(home, ['weights', 'pull', 'resnet18']);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /resnet18-f37072fd\.pth: the cached weights have sha256 [0-9a-f]{64}, expected sha256 starting with f37072fd; .*delete it and run 'simplenet weights pull resnet18'/,
  );
  const saved = { ...process.env };
  Object.assign(process.env, OFFLINE, { SIMPLENET_HOME: home });
  try {
    await assert.rejects(resolveBackbone({ backbone: 'resnet18', layers: ['layer1'] }), /resnet18-f37072fd\.pth: the cached weights have sha256/);
  } finally {
    process.env = saved;
  }
});
