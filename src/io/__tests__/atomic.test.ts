import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { checkOutputFile, checkOutputFolder, OutputRefusedError, writeDirAtomic, writeFileAtomic, writeFileDurable } from '../atomic.js';
import { MODEL_FORMAT, PREDICT_CSV_HEADER, REPORT_CSV_HEADER } from '../artefacts.js';
import { cleanStaleTemporaries, parseTemporary, temporaryPath } from '../temporaries.js';
import { testTempDir } from '../../testing/tempDir.js';

/** The pid of a process that has exited: what a kill -9 leaves in a temporary's name. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function fakeModel(dir: string, extra: Record<string, string> = {}): void {
  mkdirSync(dir, { recursive: true });
  const manifest = {
    format: MODEL_FORMAT,
    backbone: { file: 'backbone.onnx' },
    heads: { file: 'heads.safetensors' },
    training: { logFile: 'training_log.csv' },
  };
  writeFileSync(join(dir, 'simplenet.json'), JSON.stringify(manifest));
  for (const f of ['backbone.onnx', 'heads.safetensors', 'training_log.csv']) writeFileSync(join(dir, f), 'x');
  for (const [k, v] of Object.entries(extra)) writeFileSync(join(dir, k), v);
}

describe('outputs replace only what simplenet wrote', () => {
  const root = testTempDir('simplenet-atomic-');
  after(() => rmSync(root, { recursive: true, force: true }));

  test('a folder output may go where nothing is, into an empty folder, or over its own kind', () => {
    checkOutputFolder(join(root, 'none'), 'model');
    mkdirSync(join(root, 'empty'));
    checkOutputFolder(join(root, 'empty'), 'model');
    fakeModel(join(root, 'm1'), { 'metrics.json': JSON.stringify({ threshold_source: 'validation-quantile', n_images: 5 }) });
    checkOutputFolder(join(root, 'm1'), 'model');
  });

  test('anything else is refused with a message naming the path, and left as it was', () => {
    const data = join(root, 'data');
    mkdirSync(join(data, 'keep'), { recursive: true });
    writeFileSync(join(data, 'keep', 'important.txt'), 'x');
    assert.throws(
      () => checkOutputFolder(data, 'model'),
      (e: Error) => e instanceof OutputRefusedError && e.message.startsWith(`${data}: exists and is not a simplenet model folder`),
    );
    fakeModel(join(root, 'm2'), { 'notes.txt': 'mine' });
    assert.throws(() => checkOutputFolder(join(root, 'm2'), 'model'), /simplenet did not write \(notes\.txt\)/);
    fakeModel(join(root, 'm3'));
    assert.throws(() => checkOutputFolder(join(root, 'm3'), 'report'), /is a simplenet model folder, not a simplenet test report/);
    writeFileSync(join(root, 'file'), 'x');
    assert.throws(() => checkOutputFolder(join(root, 'file'), 'predictions'), /is a file, not a folder/);
    assert.equal(readFileSync(join(data, 'keep', 'important.txt'), 'utf8'), 'x');
  });

  test('a file output replaces only a file of its kind, never a folder or a model file', () => {
    writeFileSync(join(root, 'photo.png'), 'PNG');
    assert.throws(() => checkOutputFile(join(root, 'photo.png'), 'onnx'), /exists and is not an ONNX model written by simplenet/);
    assert.throws(() => checkOutputFile(join(root, 'photo.png'), 'metrics-json'), /not a metrics JSON/);
    assert.throws(() => checkOutputFile(root, 'npy'), /is a folder/);
    fakeModel(join(root, 'm4'));
    assert.throws(() => checkOutputFile(join(root, 'm4', 'backbone.onnx'), 'onnx'), /is part of the simplenet model/);
    writeFileSync(join(root, 'm.json'), JSON.stringify({ threshold_source: 'user', n_images: 3 }));
    checkOutputFile(join(root, 'm.json'), 'metrics-json');
  });

  test('writeDirAtomic replaces a model of ours and leaves no temporary', async () => {
    const out = join(root, 'm5');
    fakeModel(out);
    await writeDirAtomic(out, 'model', async (tmp) => {
      fakeModel(tmp, { 'new.txt': '' });
    });
    // new.txt is not a model file, but this is what fill wrote: the new folder is in place.
    assert.ok(existsSync(join(out, 'new.txt')));
    assert.deepEqual(
      readdirSync(root).filter((n) => parseTemporary(n)),
      [],
    );
  });

  test('a predictions or report folder holding a file a user put there is refused, not replaced', () => {
    const pred = join(root, 'p-user');
    mkdirSync(join(pred, 'sub'), { recursive: true });
    writeFileSync(join(pred, 'predictions.csv'), `${PREDICT_CSV_HEADER}\nimg/a.png,1,0.5,1,sub/a.png,sub/a.npy\n`);
    writeFileSync(join(pred, 'sub', 'a.png'), 'x');
    writeFileSync(join(pred, 'sub', 'a.npy'), 'x');
    checkOutputFolder(pred, 'predictions'); // only what its rows list: ours to replace
    // A name csvRow quotes (a comma, a quote) is still read as listed.
    writeFileSync(join(pred, 'predictions.csv'), `${PREDICT_CSV_HEADER}\nimg/a.png,1,0.5,1,sub/a.png,sub/a.npy\n"b,""c"".png",1,0.5,1,"b,""c"".png",b.npy\n`);
    writeFileSync(join(pred, 'b,"c".png'), 'x');
    writeFileSync(join(pred, 'b.npy'), 'x');
    checkOutputFolder(pred, 'predictions');
    writeFileSync(join(pred, 'sub', 'notes.png'), 'mine');
    assert.throws(() => checkOutputFolder(pred, 'predictions'), OutputRefusedError);
    const report = join(root, 'r-user');
    mkdirSync(join(report, 'maps', 'good'), { recursive: true });
    mkdirSync(join(report, 'images', 'good'), { recursive: true });
    writeFileSync(join(report, 'predictions.csv'), `${REPORT_CSV_HEADER}\n`);
    writeFileSync(join(report, 'report.html'), '<html></html>');
    writeFileSync(join(report, 'metrics.json'), JSON.stringify({ threshold_source: 'validation-quantile', n_images: 1 }));
    writeFileSync(join(report, 'maps', 'good', '000.npy'), 'x');
    writeFileSync(join(report, 'images', 'good', '000.png'), 'x');
    checkOutputFolder(report, 'report');
    writeFileSync(join(report, 'notes.txt'), 'mine');
    assert.throws(() => checkOutputFolder(report, 'report'), OutputRefusedError);
    assert.ok(existsSync(join(report, 'notes.txt')) && existsSync(join(pred, 'sub', 'notes.png')));
  });

  test('a failing fill keeps the old output and removes its temporary', async () => {
    const out = join(root, 'p1');
    mkdirSync(out);
    writeFileSync(join(out, 'predictions.csv'), `${PREDICT_CSV_HEADER}\n`);
    await assert.rejects(
      writeDirAtomic(out, 'predictions', async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.ok(existsSync(join(out, 'predictions.csv')));
    assert.deepEqual(
      readdirSync(root).filter((n) => parseTemporary(n)),
      [],
    );
  });

  test('a write error names the output path and the cause', async () => {
    const blocker = join(root, 'blocker');
    writeFileSync(blocker, 'x');
    // The parent "folder" is a file: mkdir fails with ENOTDIR / EEXIST.
    await assert.rejects(
      writeFileAtomic(join(blocker, 'out.json'), '{}', 'json'),
      (e: Error) => e.message.startsWith(join(blocker)) && /cannot write/.test(e.message),
    );
  });
});

describe('temporaries of dead runs are cleaned by the next run', () => {
  const root = testTempDir('simplenet-stale-');
  after(() => rmSync(root, { recursive: true, force: true }));

  const asPid = (path: string, pid: number) => path.replace(/-\d+-([0-9a-f]{8})\.(tmp|old)$/, `-${pid}-$1.$2`);

  test('a model moved aside by a run killed between its two renames is renamed back', async () => {
    const out = join(root, 'model');
    const old = asPid(temporaryPath(out, 'old'), deadPid());
    fakeModel(old);
    const tmp = asPid(temporaryPath(out, 'tmp'), deadPid());
    mkdirSync(tmp);
    const done = await cleanStaleTemporaries(root);
    assert.equal(done.length, 2);
    assert.ok(existsSync(join(out, 'simplenet.json')), 'the complete old model is back at its path');
    assert.deepEqual(readdirSync(root), ['model']);
  });

  test('an old copy whose output exists is removed; live and foreign temporaries are kept', async () => {
    const out = join(root, 'model');
    const stale = asPid(temporaryPath(out, 'old'), deadPid());
    fakeModel(stale);
    const live = temporaryPath(out, 'tmp');
    mkdirSync(live);
    const foreign = join(root, `.model.sn-000000-${deadPid()}-0123abcd.tmp`);
    mkdirSync(foreign);
    const userFile = join(root, '.model.backup');
    writeFileSync(userFile, 'mine');
    await cleanStaleTemporaries(root);
    assert.equal(existsSync(stale), false);
    assert.ok(existsSync(live), "this process's own temporary is in use");
    assert.ok(existsSync(foreign), 'another machine decides for its own pids');
    assert.ok(existsSync(userFile));
  });
});

test('writeFileDurable refuses a file that exists and leaves it as it was', async () => {
  const dir = testTempDir('simplenet-durable-');
  try {
    const p = join(dir, 'users.txt');
    writeFileSync(p, "the user's");
    await assert.rejects(writeFileDurable(p, 'ours'), (e: NodeJS.ErrnoException) => e.code === 'EEXIST');
    assert.equal(readFileSync(p, 'utf8'), "the user's");
    await writeFileDurable(join(dir, 'new.txt'), 'ours');
    assert.equal(readFileSync(join(dir, 'new.txt'), 'utf8'), 'ours');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
