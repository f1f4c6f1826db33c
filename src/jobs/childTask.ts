/**
 * Runs one task in a child process (worker.ts), so a job never blocks its parent's event loop and
 * a crash in training takes down only the child. Used by the local job runner and the queue worker.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProgressEvent } from '../core/progress.js';
import { oneLine } from '../core/progress.js';
import { cleanStaleTemporaries } from '../io/temporaries.js';
import type { Task } from './taskSpec.js';
import type { FromWorker, ToWorker } from './workerProtocol.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));
/** After SIGTERM, how long the child may take to stop before it is killed. */
const KILL_AFTER_MS = 30_000;

/** A task's end in its child process. */
export type ChildOutcome = { type: 'done'; result: unknown } | { type: 'cancelled' } | { type: 'failed'; message: string };

/**
 * Runs `task` in a child; `signal` stops it (SIGTERM, then SIGKILL after 30 s). Temporaries a dead
 * child left beside `cleanDir` are removed afterwards (they are named with its pid).
 */
export function runTaskInChild(task: Task, opts: { signal?: AbortSignal; onProgress?: (e: ProgressEvent) => void; cleanDir?: string }): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    let outcome: FromWorker | undefined;
    let stderr = '';
    const child = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    let killer: NodeJS.Timeout | undefined;
    const stop = () => {
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    };
    if (opts.signal?.aborted) stop();
    opts.signal?.addEventListener('abort', stop, { once: true });
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('message', (m: FromWorker) => {
      if (m.type === 'progress') opts.onProgress?.(m.event);
      else outcome = m;
    });
    let ended = false;
    const end = (code: number | null, signal: NodeJS.Signals | null, err?: Error) => {
      if (ended) return;
      ended = true;
      clearTimeout(killer);
      opts.signal?.removeEventListener('abort', stop);
      const last = oneLine(stderr.trim().split('\n').at(-1) ?? '');
      const how = err ? `could not start (${err.message})` : signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const settled: ChildOutcome =
        outcome?.type === 'done'
          ? { type: 'done', result: outcome.result }
          : outcome?.type === 'cancelled' || outcome?.type === 'failed'
            ? outcome
            : { type: 'failed', message: `the job's process ${how}${last ? `: ${last}` : ''}` };
      void (opts.cleanDir ? cleanStaleTemporaries(opts.cleanDir).catch(() => undefined) : Promise.resolve()).then(() => resolve(settled));
    };
    child.on('error', (e) => end(null, null, e));
    child.on('exit', (code, signal) => end(code, signal));
    try {
      child.send({ type: 'start', task } satisfies ToWorker, (e) => e && child.kill('SIGKILL'));
    } catch {
      child.kill('SIGKILL');
    }
  });
}
