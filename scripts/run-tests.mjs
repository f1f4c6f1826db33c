// Runs the compiled tests: `unit` (every *.test.js except *.int.test.js: seconds) or `all`.
// Integration tests (*.int.test.ts) spawn the CLI, train, fuzz or drive a browser.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const tier = process.argv[2] ?? 'all';
const files = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.js') && (tier === 'all' || !e.name.endsWith('.int.test.js'))) files.push(p);
  }
};
walk('dist/src');
const r = spawnSync(process.execPath, ['--test', ...files.sort()], { stdio: 'inherit' });
process.exit(r.status ?? 1);
