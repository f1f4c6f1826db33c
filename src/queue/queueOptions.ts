/**
 * What the queue's producers and workers agree on: the default queue name, how often a job is
 * tried, how a dead worker is noticed, and the channel that carries cancellations to workers.
 */
import type { EpochRecord, JobProgress } from '../jobs/jobSpec.js';
import type { Task } from '../jobs/taskSpec.js';

export const DEFAULT_QUEUE = 'simplenet';

/** Tries per job: a worker's crash or a failing disk gets two more chances, a bad spec fails three times fast. */
export const DEFAULT_ATTEMPTS = 3;

/**
 * A worker holds its job's lock for this long and renews it at half; a worker killed with -9 stops
 * renewing, and after the lock expires the next stalled check (every STALLED_INTERVAL_MS on every
 * worker) puts the job back in the queue for another worker.
 */
export const LOCK_DURATION_MS = 30_000;
export const STALLED_INTERVAL_MS = 15_000;

/** A job may be found stalled this many times (its workers died) before it fails. */
export const MAX_STALLED = 2;

/** Finished jobs stay a week (for `jobs list` and a late `benchmark` waiting on them), then Redis forgets them. */
export const KEEP_COMPLETED = { age: 7 * 24 * 3600, count: 100_000 };

/** What a job carries in Redis. */
export interface QueueJobData {
  task: Task;
  /** One line naming the job, for progress lines and `jobs list`. */
  label: string;
}

/** What a job reports as its BullMQ progress: the web app's progress record and its epoch history. */
export interface QueueProgress {
  progress: JobProgress;
  /** The epoch history, sent only when an epoch ends (it can hold a thousand records; ticks leave it out). */
  history?: EpochRecord[];
  /** The worker (host:pid) running it. */
  worker?: string;
}

/** The pub/sub channel on which `jobs cancel` tells every worker to stop a running job. */
export function cancelChannel(queue: string): string {
  return `simplenet:${queue}:cancel`;
}
