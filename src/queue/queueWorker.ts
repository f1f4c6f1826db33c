/**
 * The queue's worker (`simplenet worker`): takes jobs from the queue, up to `concurrency` at a time,
 * runs each in a child process (the same child as the local runner's) and reports its progress as
 * BullMQ progress. A worker that dies stops renewing its job's lock; another worker's stalled check
 * then moves the job back to the queue, and the retry resumes from the checkpoint on the shared
 * filesystem. A job cancelled with `jobs cancel` fails at once, without further attempts.
 */
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { runTaskInChild } from '../jobs/childTask.js';
import { applyProgress } from '../jobs/jobProgress.js';
import type { Job as JobRecord } from '../jobs/jobSpec.js';
import { benchmarkCheckpointPath } from '../jobs/benchmarkRunTask.js';
import { type Task, TaskSchema } from '../jobs/taskSpec.js';
import { checkRedis } from './connect.js';
import { cancelChannel, DEFAULT_QUEUE, LOCK_DURATION_MS, MAX_STALLED, type QueueJobData, type QueueProgress, STALLED_INTERVAL_MS } from './queueOptions.js';
import { maskRedisUrl, maskSecrets, parseRedisUrl } from './redisUrl.js';

export interface QueueWorkerOptions {
  url: string;
  queue?: string;
  concurrency?: number;
  /** Lock and stalled-check timing (ms); shorter in tests, so a killed worker's job moves on sooner. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  log?(message: string): void;
}

/** Progress updates per job are sent at most this often (epochs, starts and ends always). */
const TICK_MS = 500;

/** Where a dead child's temporaries would be: beside the task's output. */
function outputFolder(task: Task): string | undefined {
  switch (task.kind) {
    case 'train':
    case 'score-chunk':
      return dirname(task.out);
    case 'benchmark-run':
      return dirname(benchmarkCheckpointPath(task.out, task.category, task.seed));
    case 'noop':
      return undefined;
  }
}

export interface RunningQueueWorker {
  /** Stops taking jobs; running jobs are stopped and go back to the queue for another worker. */
  close(): Promise<void>;
}

/**
 * Starts a worker.
 * @throws Error naming the masked URL when Redis cannot be reached.
 */
export async function startQueueWorker(o: QueueWorkerOptions): Promise<RunningQueueWorker> {
  await checkRedis(o.url);
  const name = o.queue ?? DEFAULT_QUEUE;
  const log = (m: string) => o.log?.(maskSecrets(m, o.url));
  const me = `${hostname()}:${process.pid}`;
  const cancelled = new Set<string>();

  const processor = async (job: Job<QueueJobData>, _token?: string, signal?: AbortSignal): Promise<unknown> => {
    const parsed = TaskSchema.safeParse(job.data.task);
    if (!parsed.success) throw new UnrecoverableError(`job ${job.id}: not a simplenet task (${parsed.error.issues[0]?.message})`);
    const task = parsed.data;
    log(`job ${job.id} (${job.data.label}): started, attempt ${job.attemptsMade + 1}`);
    // The web app's progress record, rebuilt from the child's events (only progress and history are used).
    const record = { progress: { epoch: 0, epochs: 0, step: 0, steps: 0 }, history: [] } as unknown as JobRecord;
    let lastTick = 0;
    const outcome = await runTaskInChild(task, {
      signal,
      cleanDir: outputFolder(task),
      onProgress: (e) => {
        // Information lines (a resume from a checkpoint) and warnings belong in the worker's log too.
        if (e.type === 'info' || e.type === 'warning') log(`job ${job.id}: ${e.type === 'warning' ? 'warning: ' : ''}${e.message}`);
        applyProgress(record, e);
        const now = Date.now();
        if (e.type === 'progress' && now - lastTick < TICK_MS) return;
        lastTick = now;
        const p: QueueProgress = { progress: record.progress, ...(e.type === 'epoch' ? { history: record.history } : {}), worker: me };
        void job.updateProgress(p as unknown as object).catch(() => undefined);
      },
    });
    if (outcome.type === 'done') {
      const did = (outcome.result as { did?: string } | undefined)?.did;
      log(`job ${job.id} (${job.data.label}): done${did ? ` (${did})` : ''}`);
      return outcome.result;
    }
    if (cancelled.delete(job.id ?? '')) {
      log(`job ${job.id}: cancelled`);
      throw new UnrecoverableError('cancelled with `simplenet jobs cancel`; its checkpoint is kept for `jobs retry`');
    }
    const message = outcome.type === 'cancelled' ? 'stopped: the worker is shutting down' : outcome.message;
    log(`job ${job.id} (${job.data.label}): failed: ${message}`);
    throw new Error(message);
  };

  const worker = new Worker<QueueJobData>(name, processor, {
    connection: parseRedisUrl(o.url),
    concurrency: o.concurrency ?? 1,
    lockDuration: o.lockDurationMs ?? LOCK_DURATION_MS,
    stalledInterval: o.stalledIntervalMs ?? STALLED_INTERVAL_MS,
    maxStalledCount: MAX_STALLED,
  });
  worker.on('error', (e) => log(`worker: ${e.message}`));

  const sub = new Redis(parseRedisUrl(o.url));
  sub.on('error', () => undefined);
  await sub.subscribe(cancelChannel(name));
  sub.on('message', (_channel, id: string) => {
    if (worker.cancelJob(id, 'cancelled')) cancelled.add(id);
  });

  await worker.waitUntilReady();
  log(`worker ${me} on queue '${name}' at ${maskRedisUrl(o.url)}, ${o.concurrency ?? 1} at a time`);
  return {
    async close() {
      sub.disconnect();
      worker.cancelAllJobs('the worker is shutting down');
      await worker.close();
    },
  };
}
