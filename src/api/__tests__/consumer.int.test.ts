/**
 * The package as a user gets it: `npm pack`, installed into a fresh project, used from a strict
 * TypeScript file through the package's entry points only: train one epoch, score an image (equal
 * to `simplenet predict --json`), export, close.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { REPO_ROOT } from '../../testing/golden.js';
import { makeTinyBackbone, makeTinyDataset, TINY_CONFIG } from '../../testing/fixtures.js';
import { testTempDir } from '../../testing/tempDir.js';

const dir = testTempDir('simplenet-consumer-');
after(() => rmSync(dir, { recursive: true, force: true }));

const CONSUMER = `import { Detector, train, type ProgressEvent, type ScoreResult } from 'simplenet';
import { GraphBuilder } from 'simplenet/graph';

const [data, backbone, out, image, onnx] = process.argv.slice(2);
const events: ProgressEvent[] = [];
const detector: Detector = await train({
  data: { format: 'mvtec', root: data, category: 'widget' },
  backbone,
  out,
  epochs: 1,
  config: ${JSON.stringify({ ...TINY_CONFIG, train: { batchSize: 2 } })},
  onProgress: (e) => events.push(e),
});
const r: ScoreResult = await detector.score(image);
const exported = await detector.export(onnx);
await detector.close();
const again = await Detector.load(out);
const info = again.info;
await again.close();
const epochs = events.filter((e) => e.type === 'epoch').length;
console.log(JSON.stringify({ score: r.score, label: r.label, size: [r.width, r.height], mapLength: r.anomalyMap.length, bytes: exported.bytes, epochs, preset: info.preset, graph: typeof GraphBuilder }));
`;

test('npm pack → install → strict TypeScript: train, score (= predict --json), export, close', () => {
  const packed = execFileSync('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim().split('\n').at(-1)!;
  const tarball = join(dir, packed);
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
  assert.deepEqual(
    files.filter((f) => /__tests__|\/testing\/|\.map$|scripts\//.test(f)),
    [],
    'no tests, fixtures, source maps or scripts in the package',
  );
  assert.ok(files.includes('package/dist/src/index.d.ts'));
  assert.ok(files.includes('package/dist/web/index.html'), 'the web app (simplenet serve at /, export --web) ships built');

  const project = join(dir, 'project');
  mkdirSync(project);
  copyFileSync(join(REPO_ROOT, '.npmrc'), join(project, '.npmrc'));
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { simplenet: `file:${tarball}` } }),
  );
  // Dependencies come from npm's cache, filled by the repository's own install.
  execFileSync('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--silent'], { cwd: project, stdio: 'inherit' });
  writeFileSync(join(project, 'consumer.ts'), CONSUMER);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmitOnError: true,
        types: ['node'],
        typeRoots: [join(REPO_ROOT, 'node_modules/@types')],
        skipLibCheck: false,
      },
      files: ['consumer.ts'],
    }),
  );
  const tsc = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { encoding: 'utf8' });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);

  return (async () => {
    const data = join(dir, 'data');
    await makeTinyDataset(data);
    const manifest = makeTinyBackbone(join(dir, 'backbone'));
    const image = join(data, 'widget/test/spot/001.png');
    const out = join(dir, 'model');
    const run = spawnSync(process.execPath, [join(project, 'consumer.js'), data, manifest, out, image, join(dir, 'exported.onnx')], {
      cwd: project,
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const r = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    assert.equal(r.epochs, 1, 'one epoch event');
    assert.deepEqual(r.size, [32, 32]);
    assert.equal(r.mapLength, 32 * 32);
    assert.ok(r.bytes > 0 && existsSync(join(dir, 'exported.onnx')));
    assert.equal(r.preset, 'validated');
    assert.equal(r.graph, 'function');

    const cli = join(project, 'node_modules/simplenet/dist/src/cli/main.js');
    const p = spawnSync(process.execPath, [cli, 'predict', '--model', out, image, '--json', '--quiet'], { encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    const predicted = JSON.parse(p.stdout);
    assert.ok(Math.abs(predicted.score - r.score) <= 1e-6 * Math.abs(predicted.score), `library ${r.score} vs predict ${predicted.score}`);
    assert.equal(predicted.label, r.label);
    assert.deepEqual(
      readdirSync(project).filter((f) => f.startsWith('.') && f !== '.npmrc'),
      [],
    );
  })();
});
