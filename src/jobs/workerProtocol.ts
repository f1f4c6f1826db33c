/**
 * The messages between a job runner (the local one, or a queue worker) and its child process (over
 * Node's IPC channel, JSON-serialised): one task down, progress events and one outcome up.
 */
import type { ProgressEvent } from '../core/progress.js';
import type { Task, TrainTask } from './taskSpec.js';

/** Everything `train()` needs, as absolute paths already checked against the data root. */
export type WorkerTask = TrainTask;

export type ToWorker = { type: 'start'; task: Task };

export type FromWorker =
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'done'; result?: unknown }
  | { type: 'cancelled' }
  | { type: 'failed'; message: string };
