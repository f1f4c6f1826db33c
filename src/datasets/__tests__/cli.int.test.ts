/** `simplenet datasets pull|list` end to end, against a server on 127.0.0.1 (and a dead proxy for the official URLs). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT } from '../../testing/golden.js';
import { makeTar, mvtecCategoryEntries, xzStored } from '../../testing/archives.js';
import { testTempDir } from '../../testing/tempDir.js';

const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');
const dir = testTempDir('datasets-cli-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** The machine's proxy variables must not leak in; a dead proxy proves nothing else goes to the network. */
const OFFLINE = { HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', https_proxy: '', http_proxy: '', NO_PROXY: '127.0.0.1', no_proxy: '' };

function simplenet(home: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...OFFLINE, SIMPLENET_HOME: home, CI: 'true' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const CABLE = xzStored(makeTar(mvtecCategoryEntries('cable')));
const SHA = createHash('sha256').update(CABLE).digest('hex');
let base = '';
const server = http.createServer((req, res) => {
  if (req.url !== '/cable.tar.xz') {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-length': String(CABLE.length) }).end(CABLE);
});
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

test('pull prints the folder and the train command; list shows it; a second pull downloads nothing', async () => {
  const home = join(dir, 'home');
  const root = join(home, 'datasets', 'mvtec_ad');
  const r = await simplenet(home, ['datasets', 'pull', 'mvtec_ad', '--category', 'cable', '--url', `${base}/cable.tar.xz`, '--sha256', SHA]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      `MVTec AD cable: ready in ${root}`,
      `  archive sha256 ${SHA} (verified)`,
      'next:',
      `  simplenet train --data ${root} --category cable --backbone mobilenet_v2 --epochs 8 --out runs/cable`,
      '',
    ].join('\n'),
  );
  assert.ok(existsSync(join(root, 'cable', 'train', 'good', '000.png')));

  const list = await simplenet(home, ['datasets', 'list']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^mvtec_ad +cable +\(MVTec AD, CC BY-NC-SA 4\.0/m);
  assert.match(list.stdout, /^visa +not pulled/m);
  const json = JSON.parse((await simplenet(home, ['datasets', 'list', '--json'])).stdout);
  assert.deepEqual(json.datasets[0].categories, ['cable']);
  assert.equal(json.datasets[0].record.pulls.cable.sha256, SHA);

  const again = await simplenet(home, ['datasets', 'pull', 'mvtec_ad', '--category', 'cable', '--json']);
  assert.equal(again.code, 0, again.stderr);
  const j = JSON.parse(again.stdout);
  assert.equal(j.downloaded, false);
  assert.equal(j.root, root);
});

test('offline: the official URLs fail in one message naming them and the way to install by hand', async () => {
  const home = join(dir, 'offline');
  const r = await simplenet(home, ['datasets', 'pull', 'mvtec_ad', '--category', 'bottle', '--timeout', '2']);
  assert.equal(r.code, 1);
  const [first, ...rest] = r.stderr.trim().split('\n');
  assert.match(
    first,
    /^simplenet: cannot download the MVTec AD archive bottle\.tar\.xz \(https:\/\/www\.mydrive\.ch\/shares\/150452\/\S+\/bottle\.tar\.xz: .*ECONNREFUSED.*; https:\/\/www\.mydrive\.ch\/shares\/38536\/\S+\/bottle\.tar\.xz: /,
  );
  assert.match(rest.join('\n'), /simplenet datasets pull mvtec_ad --category bottle --archive <file>/);
  assert.ok(!existsSync(home), 'nothing left behind');
});
