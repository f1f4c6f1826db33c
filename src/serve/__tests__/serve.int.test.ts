/**
 * `simplenet serve` over real HTTP on 127.0.0.1 (ephemeral ports): the service's scores equal
 * `predict --json`, every bad input gets its status and a JSON error while the server keeps
 * serving, overload is 503 with Retry-After within a memory bound, SIGTERM and reload lose no
 * request, and the token rules hold.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { MAX_EXACT_DOWNSCALE, tileGrid } from '../../images/fit.js';
import { loadModel } from '../../model/modelDir.js';
import { CLI, runCli, tinyWorkspace, trainTiny } from '../../testing/cli.js';
import { testTempDir } from '../../testing/tempDir.js';

/** The server's resident memory may grow by at most this much over an overload burst. */
const RSS_GROWTH_BOUND = 150 * 2 ** 20;

interface Server {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
}

function startServer(args: string[]): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--quiet', ...args], { env: { ...process.env, SIMPLENET_TOKEN: '' } });
    let err = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /serving .* at (http:\/\/[\d.:]+)/.exec(err);
      if (m) resolve({ url: m[1], child, exited, stderr: () => err });
    });
    exited.then((code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
const relClose = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-12);

describe('simplenet serve', () => {
  const dir = testTempDir('simplenet-serve-');
  const data = join(dir, 'data');
  const model = join(dir, 'bottle');
  let png = '';
  let jpeg = '';
  before(async () => {
    trainTiny(await tinyWorkspace(dir), model);
    png = join(data, 'widget/test/spot/001.png');
    jpeg = join(dir, 'spot.jpg');
    await sharp(png).jpeg({ quality: 90 }).toFile(jpeg);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A strip the model's fit would shrink beyond the exact resampling range (images/fit.ts `MAX_EXACT_DOWNSCALE`). */
  const elongatedPng = async () => {
    const { config } = await loadModel(model);
    const width = Math.ceil((MAX_EXACT_DOWNSCALE + 8) * config.image.crop * tileGrid(config.image)[1]);
    return sharp({ create: { width, height: 8, channels: 3, background: { r: 90, g: 120, b: 30 } } })
      .png()
      .toBuffer();
  };
  const predictJson = (path: string) => JSON.parse(runCli(['predict', '--model', model, path, '--json', '--quiet']).stdout);
  const post = (url: string, body: Buffer | FormData, type?: string, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', body: body as unknown as BodyInit, headers: { ...(type ? { 'content-type': type } : {}), ...headers } });

  test('scores equal `predict --json`: single and multipart, PNG and JPEG; overlays on request', async () => {
    const s = await startServer(['--model', model]);
    try {
      for (const [path, type] of [
        [png, 'image/png'],
        [jpeg, 'image/jpeg'],
      ]) {
        const want = predictJson(path);
        const r = await post(`${s.url}/v1/models/bottle/predict`, readFileSync(path), type);
        assert.equal(r.status, 200);
        const got = ((await r.json()) as { images: Record<string, number>[] }).images[0];
        assert.ok(relClose(got.score, want.score, 1e-6), `${got.score} vs ${want.score}`);
        assert.ok(relClose(got.score_normalized, want.score_normalized, 1e-6));
        assert.equal(got.label, want.label);
        assert.equal(got.threshold, want.threshold);
      }
      const form = new FormData();
      form.append('a', new Blob([readFileSync(png)], { type: 'image/png' }), 'a.png');
      form.append('b', new Blob([readFileSync(jpeg)], { type: 'image/jpeg' }), 'b.jpg');
      const multi = (await (await post(`${s.url}/v1/models/bottle/predict?map=png`, form)).json()) as {
        images: { path: string; score: number; map_png: string }[];
      };
      assert.deepEqual(
        multi.images.map((i) => i.path),
        ['a.png', 'b.jpg'],
      );
      assert.ok(relClose(multi.images[0].score, predictJson(png).score, 1e-6));
      assert.ok(relClose(multi.images[1].score, predictJson(jpeg).score, 1e-6));
      assert.equal((await sharp(Buffer.from(multi.images[0].map_png, 'base64')).metadata()).format, 'png');
      const asPng = await post(`${s.url}/v1/models/bottle/predict`, readFileSync(png), 'image/png', { accept: 'image/png' });
      assert.equal(asPng.headers.get('content-type'), 'image/png');
      assert.equal((await sharp(Buffer.from(await asPng.arrayBuffer())).metadata()).width, 32);
      const info = (await (await fetch(`${s.url}/v1/models/bottle`)).json()) as { preset: string; threshold_source: string; fit: string; tiles: number[] };
      assert.equal(info.threshold_source, 'training-floor', "the default floor sets this fixture model's image threshold");
      // The default fit, one tile for square images.
      assert.equal(info.fit, 'tile');
      assert.deepEqual(info.tiles, [1, 1]);
      assert.match(await (await fetch(`${s.url}/metrics`)).text(), /simplenet_images_scored_total\{model="bottle"\} 5/);
      const openapi = (await (await fetch(`${s.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
      assert.equal(openapi.openapi, '3.1.0');
      assert.ok(openapi.paths['/v1/models/{name}/predict']);
      assert.equal((await fetch(`${s.url}/docs/`)).status, 200);
      assert.equal((await fetch(`${s.url}/readyz`)).status, 200);
      const onnx = Buffer.from(await (await fetch(`${s.url}/v1/models/bottle/model.onnx`)).arrayBuffer());
      assert.equal(onnx.subarray(0, 64).includes(Buffer.from('simplenet')), true, 'the exported scoring graph');
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  test('bad input: 400, 415, 413, 404, 422, 504 with a JSON error; the server keeps serving', async () => {
    const s = await startServer(['--model', model, '--body-limit', '50kb']);
    // Batches of up to 8 wait 50 ms for more images: longer than the 1 ms timeout, whatever the machine.
    const slow = await startServer(['--model', model, '--timeout', '1', '--max-batch', '8', '--max-wait-ms', '50']);
    try {
      const good = readFileSync(png);
      const cases: [Promise<Response>, number, string][] = [
        [post(`${s.url}/v1/models/bottle/predict`, Buffer.from('not an image'), 'image/png'), 400, 'bad_image'],
        [post(`${s.url}/v1/models/bottle/predict`, good.subarray(0, good.length >> 1), 'image/png'), 400, 'bad_image'],
        [post(`${s.url}/v1/models/bottle/predict`, Buffer.from('/etc/passwd'), 'text/plain'), 415, 'unsupported_media_type'],
        [post(`${s.url}/v1/models/bottle/predict`, Buffer.alloc(80 * 1024), 'image/png'), 413, 'body_too_large'],
        [post(`${s.url}/v1/models/nope/predict`, good, 'image/png'), 404, 'unknown_model'],
        [post(`${s.url}/v1/models/bottle/predict`, await elongatedPng(), 'image/png'), 422, 'image_too_elongated'],
        [post(`${slow.url}/v1/models/bottle/predict`, good, 'image/png'), 504, 'timeout'],
      ];
      for (const [response, status, code] of cases) {
        const r = await response;
        const body = (await r.json()) as { error: { code: string; message: string } };
        assert.equal(r.status, status, JSON.stringify(body));
        assert.equal(body.error.code, code);
        assert.doesNotMatch(body.error.message, /\n\s+at /, 'no stack trace');
      }
      assert.equal((await post(`${s.url}/v1/models/bottle/predict`, good, 'image/png')).status, 200);
    } finally {
      for (const x of [s, slow]) x.child.kill('SIGTERM');
      await Promise.all([s.exited, slow.exited]);
    }
  });

  test(`overload: --queue 1 and 20 at once: every answer is 200 or 503 with Retry-After; RSS grows < ${RSS_GROWTH_BOUND >> 20} MiB`, async () => {
    // The first image waits up to 500 ms for a second one to batch with: the queue is full while it does.
    const s = await startServer(['--model', model, '--queue', '1', '--max-batch', '2', '--max-wait-ms', '500']);
    try {
      const body = readFileSync(png);
      const before = rss(s.child.pid!);
      const rs = await Promise.all(Array.from({ length: 20 }, () => post(`${s.url}/v1/models/bottle/predict`, body, 'image/png')));
      const statuses = rs.map((r) => r.status);
      assert.ok(
        statuses.every((x) => x === 200 || x === 503),
        statuses.join(),
      );
      assert.ok(statuses.includes(503), 'the queue limit was reached');
      assert.ok(rs.filter((r) => r.status === 503).every((r) => r.headers.get('retry-after') === '1'));
      assert.ok(rss(s.child.pid!) - before < RSS_GROWTH_BOUND);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  test('SIGTERM during a burst: every accepted request is answered, exit code 0', async () => {
    // A long batching wait keeps the burst in the queue when the signal arrives.
    const s = await startServer(['--model', model, '--max-wait-ms', '300', '--max-batch', '64']);
    const body = readFileSync(png);
    const burst = Array.from({ length: 10 }, () => post(`${s.url}/v1/models/bottle/predict`, body, 'image/png'));
    await new Promise((r) => setTimeout(r, 150));
    s.child.kill('SIGTERM');
    const statuses = (await Promise.all(burst)).map((r) => r.status);
    assert.deepEqual(statuses, Array(10).fill(200));
    assert.equal(await s.exited, 0);
  });

  test('reload during a burst (admin route and SIGHUP): no request fails', async () => {
    const s = await startServer(['--model', model]);
    try {
      const body = readFileSync(png);
      const burst: Promise<Response>[] = [];
      for (let i = 0; i < 24; i++) {
        burst.push(post(`${s.url}/v1/models/bottle/predict`, body, 'image/png'));
        if (i === 8) burst.push(post(`${s.url}/v1/admin/reload`, Buffer.alloc(0)));
        if (i === 16) s.child.kill('SIGHUP');
        await new Promise((r) => setTimeout(r, 10));
      }
      const statuses = (await Promise.all(burst)).map((r) => r.status);
      assert.deepEqual(statuses, Array(25).fill(200));
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  test('auth: a non-loopback bind without a token refuses to start; with a token, no token is 401', async () => {
    const r = spawnSync(process.execPath, [CLI, 'serve', '--model', model, '--host', '0.0.0.0', '--port', '0'], {
      encoding: 'utf8',
      env: { ...process.env, SIMPLENET_TOKEN: '' },
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--host 0\.0\.0\.0 is reachable from other machines: give --token/);
    const s = await startServer(['--model', model, '--token', 's3cret']);
    try {
      const body = readFileSync(png);
      assert.equal((await post(`${s.url}/v1/models/bottle/predict`, body, 'image/png')).status, 401);
      assert.equal((await post(`${s.url}/v1/models/bottle/predict`, body, 'image/png', { authorization: 'Bearer wrong' })).status, 401);
      assert.equal((await post(`${s.url}/v1/models/bottle/predict`, body, 'image/png', { authorization: 'Bearer s3cret' })).status, 200);
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });
});
