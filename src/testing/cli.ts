/**
 * The CLI as integration tests run it (a child process on the built dist/), and the tiny trained
 * model most of them start from: one copy instead of one per test file.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTinyBackbone, makeTinyDataset, TINY_CONFIG, type TinyDatasetOptions } from './fixtures.js';
import { REPO_ROOT } from './golden.js';

export const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');

/** Runs `simplenet <args>` to the end (CI=true: plain progress lines). */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true', ...env }, maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface TinyWorkspace {
  /** Dataset root (category 'widget'), backbone manifest, config file. */
  data: string;
  manifest: string;
  config: string;
}

/** The tiny MVTec-layout dataset, backbone and config under `dir`. */
export async function tinyWorkspace(dir: string, opts: TinyDatasetOptions = {}): Promise<TinyWorkspace> {
  const data = join(dir, 'data');
  await makeTinyDataset(data, 'widget', opts);
  const manifest = makeTinyBackbone(join(dir, 'backbone'));
  const config = join(dir, 'tiny.json');
  writeFileSync(config, JSON.stringify(TINY_CONFIG));
  return { data, manifest, config };
}

/** `simplenet train` on the tiny workspace into `out`; throws with the CLI's stderr when it fails. */
export function trainTiny(w: TinyWorkspace, out: string, ...extra: string[]): void {
  const r = runCli(['train', '--data', w.data, '--category', 'widget', '--backbone', w.manifest, '--config', w.config, '--quiet', '--out', out, ...extra]);
  if (r.code !== 0) throw new Error(`train failed (${r.code}): ${r.stderr}`);
}
