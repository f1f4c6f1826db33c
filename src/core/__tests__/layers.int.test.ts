/**
 * The layer rule fails CI on a forbidden import: the checker (.dependency-cruiser.cjs, run by
 * `npm run check`) is run on a small tree where a bottom layer imports the CLI, and on the same
 * tree without that import.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { REPO_ROOT } from '../../testing/golden.js';
import { testTempDir } from '../../testing/tempDir.js';

const dir = testTempDir('simplenet-layers-');
after(() => rmSync(dir, { recursive: true, force: true }));

function check(files: Record<string, string>) {
  rmSync(join(dir, 'src'), { recursive: true, force: true });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
  return spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'), 'src', '--config', join(REPO_ROOT, '.dependency-cruiser.cjs')],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
}

test('a bottom layer importing the CLI fails the check; the same tree without it passes', () => {
  const cli = { 'src/cli/main.ts': 'export const main = 1;\n' };
  const bad = check({ ...cli, 'src/core/progress.ts': "import { main } from '../cli/main.js';\nexport const p = main;\n" });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stdout + bad.stderr, /layer-core/);
  const good = check({
    ...cli,
    'src/core/progress.ts': 'export const p = 1;\n',
    'src/io/x.ts': "import { p } from '../core/progress.js';\nexport const x = p;\n",
  });
  assert.equal(good.status, 0, good.stdout + good.stderr);
});

test('a cycle between two modules fails the check', () => {
  const r = check({
    'src/io/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
    'src/io/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /no-cycles/);
});
