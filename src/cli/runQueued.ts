/**
 * Fans tasks out on the queue and waits for all of them, one progress line per running job: what
 * `benchmark --redis` and `predict --redis` share. Ctrl-C leaves the jobs queued (workers finish
 * them; rerunning the command picks their outputs up instead of redoing them).
 */
import { describeTask, type Task } from '../jobs/taskSpec.js';
import { TaskQueue } from '../queue/taskQueue.js';
import { QueueProgressLines } from './queueProgress.js';

export interface QueuedRun {
  url: string;
  queue: string;
  attempts?: number;
  quiet?: boolean;
}

/**
 * Results of `tasks`, in their order.
 * @throws Error naming Redis (unreachable) or the first job that failed for good.
 */
export async function runQueued(o: QueuedRun, tasks: readonly Task[]): Promise<unknown[]> {
  const q = await TaskQueue.open(o.url, o.queue);
  try {
    const ids: string[] = [];
    for (const t of tasks) ids.push(await q.add(t, o.attempts));
    const labels = new Map(ids.map((id, i) => [id, `[job ${id}] ${describeTask(tasks[i])}`]));
    if (!o.quiet) process.stderr.write(`simplenet: queued ${ids.length} jobs on '${o.queue}' (${ids[0]}…${ids.at(-1)}); waiting for workers\n`);
    const lines = o.quiet ? undefined : new QueueProgressLines(labels);
    const results = await q.waitAll(ids, {
      onProgress: (id, p) => lines?.update(id, p),
      onDone: (id, result) => {
        const did = (result as { did?: string } | undefined)?.did;
        lines?.finish(id, `done${did ? ` (${did})` : ''}`);
      },
    });
    return results;
  } finally {
    await q.close();
  }
}
