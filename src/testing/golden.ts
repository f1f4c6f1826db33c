/** Test support: golden files written by `reference/` (PyTorch, SciPy, scikit-learn) and closeness checks. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeNpy } from '../io/npy.js';
import type { HostTensor } from '../onnx/tensor.js';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the test files');
    dir = up;
  }
  return dir;
}

export const REPO_ROOT = findRoot();

/** Reads `golden/<relPath>` (a .npy file) as written by the reference scripts. */
export function golden(relPath: string): HostTensor {
  const p = resolve(REPO_ROOT, 'golden', relPath);
  return decodeNpy(readFileSync(p), p);
}

export function goldenJson<T = unknown>(relPath: string): T {
  return JSON.parse(readFileSync(resolve(REPO_ROOT, 'golden', relPath), 'utf8')) as T;
}

/**
 * Asserts max|a−b| ≤ rtol·max|b| (+ atol): relative to the reference's scale, so that entries near
 * zero do not dominate.
 */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, opts: { rtol?: number; atol?: number; label?: string } = {}): number {
  const { rtol = 1e-5, atol = 0, label = 'values' } = opts;
  assert.equal(actual.length, expected.length, `${label}: length ${actual.length} vs ${expected.length}`);
  let maxErr = 0;
  let scale = 0;
  let worst = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(Number(actual[i]) - Number(expected[i]));
    if (!(e <= maxErr)) {
      maxErr = e;
      worst = i;
    }
    scale = Math.max(scale, Math.abs(Number(expected[i])));
  }
  const rel = scale > 0 ? maxErr / scale : maxErr;
  assert.ok(
    maxErr <= rtol * scale + atol,
    `${label}: max error ${maxErr.toExponential(3)} at ${worst} (${actual[worst]} vs ${expected[worst]}), ` + `relative ${rel.toExponential(3)} > ${rtol}`,
  );
  return rel;
}
