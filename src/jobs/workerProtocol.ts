/**
 * The messages between the job runner and its training child process (over Node's IPC channel,
 * JSON-serialised): one task down, progress events and one outcome up.
 */
import type { ProgressEvent } from '../core/progress.js';
import type { DatasetSpec } from '../datasets/load.js';
import type { PresetName } from '../model/config.js';

/** Everything `train()` needs, as absolute paths already checked against the data root. */
export interface WorkerTask {
  data: DatasetSpec;
  backbone: string;
  out: string;
  checkpointPath: string;
  resume: boolean;
  epochs: number;
  preset: PresetName;
  seed: number;
  /** The server's --train-config file, applied to every job. */
  configFile?: string;
}

export type ToWorker = { type: 'start'; task: WorkerTask };

export type FromWorker = { type: 'progress'; event: ProgressEvent } | { type: 'done' } | { type: 'cancelled' } | { type: 'failed'; message: string };
