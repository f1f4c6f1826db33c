/**
 * Runs one task in this process, whatever its kind: the body of a job, called by the child process
 * (worker.ts) that the local runner and the queue worker both start, so the two run the same code.
 */
import { existsSync } from 'node:fs';
import { train } from '../api/train.js';
import { eventReporter, type ProgressEvent } from '../core/progress.js';
import { runBenchmarkTask } from './benchmarkRunTask.js';
import { runScoreChunkTask } from './scoreChunkTask.js';
import type { Task } from './taskSpec.js';

/** Runs `task`; resolves with its JSON result (what the queue stores as the job's return value). */
export async function runTask(task: Task, signal: AbortSignal, onProgress: (e: ProgressEvent) => void): Promise<unknown> {
  const reporter = eventReporter(onProgress);
  switch (task.kind) {
    case 'train': {
      const detector = await train({
        data: task.data as Parameters<typeof train>[0]['data'],
        backbone: task.backbone,
        out: task.out,
        ...(task.epochs !== undefined ? { epochs: task.epochs } : {}),
        seed: task.seed,
        preset: task.preset,
        ...(task.configFile ? { configFile: task.configFile } : {}),
        checkpointEvery: 1,
        checkpointPath: task.checkpointPath,
        // A retry on another worker (the first one died) continues from the shared checkpoint.
        resume: task.resume || existsSync(task.checkpointPath),
        signal,
        onProgress,
      });
      await detector.close();
      return { model: task.out };
    }
    case 'benchmark-run':
      return runBenchmarkTask(task, reporter, signal);
    case 'score-chunk':
      return runScoreChunkTask(task, reporter, signal);
    case 'noop':
      return {};
  }
}
