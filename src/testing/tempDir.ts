/**
 * Temporary folders for tests, removed when the test's process exits. `node --test` runs each test
 * file in a process of its own, so a test run leaves nothing behind in the system's temporary folder
 * (before this, every run left a few hundred folders there). Only folders this helper made are
 * removed. `SIMPLENET_KEEP_TEST_TMP=1` keeps them, to look at after a failure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

function removeMade(): void {
  if (process.env.SIMPLENET_KEEP_TEST_TMP) return;
  for (const dir of made.splice(0)) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    } catch (err) {
      // A test that fails to clean up must not turn a passing run into a failing one.
      process.stderr.write(`could not remove the test folder ${dir}: ${(err as Error).message}\n`);
    }
  }
}

/** A fresh folder `<tmpdir>/<prefix>XXXXXX`, removed at process exit. */
export function testTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (made.length === 0) process.once('exit', removeMade);
  made.push(dir);
  return dir;
}
