/**
 * The benchmark-run task: one category × seed trained and tested under the shared --out. Its
 * result row is written last, atomically, at `<out>/runs/<category>_seed<s>.json`; that file is the
 * proof the run is complete, so a retried job finding it returns it without training again, and a
 * job retried after its model was saved (but before the row) only tests. The training checkpoint
 * lives under `<out>/checkpoints/` so a worker on another machine resumes where a dead one stopped.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveBackbone } from '../backbones/backbone.js';
import { benchmarkModelDir, benchmarkRun } from '../benchmark/benchmarkRun.js';
import type { BenchmarkRow } from '../benchmark/summary.js';
import type { Reporter } from '../core/progress.js';
import { loadDataset } from '../datasets/load.js';
import { writeFileAtomic } from '../io/atomic.js';
import { parseConfig } from '../model/config.js';
import { loadModel } from '../model/modelDir.js';
import type { BenchmarkRunTask } from './taskSpec.js';

/** What a benchmark-run job returns: its row, and whether this attempt trained the model. */
export interface BenchmarkRunResult {
  row: BenchmarkRow;
  /** 'trained' (this attempt wrote the model), 'tested' (the model was there), 'stored' (the row was there). */
  did: 'trained' | 'tested' | 'stored';
}

/** The result row of one run under the benchmark's --out. */
export function benchmarkRowPath(out: string, category: string, seed: number): string {
  return join(out, 'runs', `${category}_seed${seed}.json`);
}

/** The training checkpoint of one run under the benchmark's --out (shared by every worker). */
export function benchmarkCheckpointPath(out: string, category: string, seed: number): string {
  return join(out, 'checkpoints', `${category}_seed${seed}.checkpoint`);
}

async function completeModel(dir: string): Promise<boolean> {
  if (!existsSync(dir)) return false;
  return loadModel(dir).then(
    () => true,
    () => false,
  );
}

export async function runBenchmarkTask(task: BenchmarkRunTask, reporter: Reporter, signal: AbortSignal): Promise<BenchmarkRunResult> {
  const rowPath = benchmarkRowPath(task.out, task.category, task.seed);
  if (existsSync(rowPath)) {
    const row = JSON.parse(await readFile(rowPath, 'utf8')) as BenchmarkRow;
    return { row, did: 'stored' };
  }
  const dataset = await loadDataset(task.dataset);
  const backbone = await resolveBackbone({ backbone: task.backbone, weights: task.weights, reporter });
  const trained = await completeModel(benchmarkModelDir(task.out, task.category, task.seed));
  const row = await benchmarkRun(
    {
      dataset,
      category: task.category,
      seed: task.seed,
      backbone,
      config: parseConfig(task.config),
      out: task.out,
      reporter,
      evalEvery: task.evalEvery,
      checkpointPath: benchmarkCheckpointPath(task.out, task.category, task.seed),
      signal,
    },
    trained,
  );
  await writeFileAtomic(rowPath, JSON.stringify(row, null, 1), 'json');
  return { row, did: trained ? 'tested' : 'trained' };
}
