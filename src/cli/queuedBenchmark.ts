/**
 * `benchmark --redis`: one benchmark-run job per category × seed on the queue, then results.csv
 * and results.md written from their rows in category × seed order, exactly as a local run writes
 * them. Paths go into the jobs absolute: workers on other machines read them on the shared filesystem.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { prepareBenchmarkOutputs, writeBenchmarkResults } from '../benchmark/benchmarkRun.js';
import type { BenchmarkRow } from '../benchmark/summary.js';
import type { BenchmarkRunResult } from '../jobs/benchmarkRunTask.js';
import type { Task } from '../jobs/taskSpec.js';
import type { SimpleNetConfig } from '../model/config.js';
import { runQueued } from './runQueued.js';

export interface QueuedBenchmarkOptions {
  redis: string;
  queue: string;
  format: string;
  data: string;
  categories: string[];
  seeds: number[];
  backbone: string;
  weights?: string;
  config: SimpleNetConfig;
  out: string;
  evalEvery?: number;
  quiet?: boolean;
}

/** A manifest path made absolute; a builtin name stays a name. */
const absoluteIfFile = (p: string) => (existsSync(p) ? resolve(p) : p);

export async function queuedBenchmark(o: QueuedBenchmarkOptions): Promise<BenchmarkRow[]> {
  const out = resolve(o.out);
  await prepareBenchmarkOutputs(out, o.categories, o.seeds, { evalEvery: o.evalEvery });
  const tasks: Task[] = o.categories.flatMap((category) =>
    o.seeds.map(
      (seed): Task => ({
        kind: 'benchmark-run',
        dataset: { format: o.format, root: resolve(o.data), category },
        category,
        seed,
        backbone: absoluteIfFile(o.backbone),
        ...(o.weights ? { weights: resolve(o.weights) } : {}),
        config: o.config as unknown as Record<string, unknown>,
        out,
        ...(o.evalEvery ? { evalEvery: o.evalEvery } : {}),
      }),
    ),
  );
  const results = (await runQueued({ url: o.redis, queue: o.queue, quiet: o.quiet }, tasks)) as BenchmarkRunResult[];
  const rows = results.map((r) => r.row);
  await writeBenchmarkResults(out, rows, o.config);
  return rows;
}
