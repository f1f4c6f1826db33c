/**
 * What runs training jobs, as seen by the server: submit, list, get, cancel, resume, subscribe to
 * one job's changes, close. The local runner (localRunner.ts) runs them one at a time in a child
 * process; a queue-backed runner (issue 17) registers under its own kind and the routes stay the same.
 */
import type { DataRoot } from './dataRoot.js';
import type { Job, JobSpecInput } from './jobSpec.js';

/** A change of one job: `job` when its state (or anything but progress) changed, `progress` on each progress update. */
export type JobEvent = { type: 'job' | 'progress'; job: Job };

export type JobListener = (e: JobEvent) => void;

export interface JobRunner {
  /**
   * Checks the spec (fields, data under the root, good images, the name) and queues a new job;
   * nothing is created when it throws.
   * @throws JobSpecError (bad spec or data), JobConflictError (the name is taken).
   */
  submit(spec: JobSpecInput): Promise<Job>;
  /** Every job, oldest first. */
  list(): Job[];
  get(id: string): Job | undefined;
  /**
   * Cancels a queued or running job (a running one is stopped; its checkpoint stays).
   * @throws JobNotFoundError, JobStateError when the job has already ended.
   */
  cancel(id: string): Promise<Job>;
  /**
   * Queues an interrupted, cancelled or failed job again; training continues from its checkpoint.
   * @throws JobNotFoundError, JobStateError when the job is queued, running or succeeded.
   */
  resume(id: string): Promise<Job>;
  /** Calls `listener` on every change of job `id`; returns the unsubscribe function. */
  subscribe(id: string, listener: JobListener): () => void;
  /** Stops taking jobs; a running job is stopped and left `interrupted` (resumable). */
  close(): Promise<void>;
}

/** What every runner is built from. */
export interface JobRunnerOptions {
  /** Where job records (and checkpoints) live. */
  jobsDir: string;
  /** Where training data may come from. */
  dataRoot: DataRoot;
  /** Where finished models are written, as `<modelsDir>/<name>`. */
  modelsDir: string;
  /** A config file (JSON or YAML) applied to every job, e.g. smaller images. */
  trainConfig?: string;
  /** Whether the server already serves a model of this name. */
  hasModel(name: string): boolean;
  /** Called when a job's model is saved: the server starts serving it. */
  onModel(name: string, dir: string): Promise<void>;
  /** One line for the server log. */
  log?(message: string): void;
  /** For the 'redis' runner: the queue its jobs go to (jobs dir and models dir must be on a filesystem the workers share). */
  redis?: { url: string; queue: string };
}

export type JobRunnerFactory = (options: JobRunnerOptions) => JobRunner;

const factories = new Map<string, JobRunnerFactory>();

/** Makes a runner kind available to `createJobRunner` (the local one registers itself). */
export function registerJobRunner(kind: string, factory: JobRunnerFactory): void {
  if (factories.has(kind)) throw new Error(`job runner '${kind}' is registered twice`);
  factories.set(kind, factory);
}

/** A runner of a registered kind. */
export function createJobRunner(kind: string, options: JobRunnerOptions): JobRunner {
  const f = factories.get(kind);
  if (!f) throw new Error(`unknown job runner '${kind}': expected ${[...factories.keys()].join(', ') || '(none registered)'}`);
  return f(options);
}
