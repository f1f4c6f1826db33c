/**
 * The embedded job runner: jobs run one at a time, first come first served, each in a child
 * process (worker.ts) so training never slows the server's event loop. State lives in the job
 * store, so a restart finds what ran as `interrupted`; resume continues from the checkpoint in
 * the job's folder. Cancelling sends SIGTERM; the child stops between steps and leaves no temporary.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { oneLine } from '../core/progress.js';
import { cleanStaleTemporaries } from '../io/temporaries.js';
import { loadCheckpoint } from '../training/checkpoint.js';
import { JobConflictError, JobNotFoundError, JobStateError } from './jobErrors.js';
import { applyProgress, historyFromLog } from './jobProgress.js';
import { type JobListener, type JobRunner, type JobRunnerOptions, registerJobRunner } from './jobRunner.js';
import { type Job, type JobSpec, type JobSpecInput, newJob, parseJobSpec } from './jobSpec.js';
import { JobStore, newJobId } from './jobStore.js';
import { type ChildOutcome, runTaskInChild } from './childTask.js';
import type { WorkerTask } from './workerProtocol.js';

/** Step ticks are sent at most this often per job (epochs and state changes always). */
const TICK_MS = 250;
/** Progress is written to disk at most this often (state changes always): tiny epochs are fast. */
const SAVE_MS = 1000;

interface Running {
  id: string;
  /** Stops its child process (childTask.ts). */
  abort: AbortController;
  /** Why the runner stopped it, when it did. */
  stop?: 'cancelled' | 'interrupted';
  /** Resolves when the job has its final state. */
  done: Promise<void>;
  lastTick: number;
  lastSave: number;
}

export class LocalJobRunner implements JobRunner {
  private readonly store: JobStore;
  private readonly queue: string[] = [];
  private readonly listeners = new Map<string, Set<JobListener>>();
  private running?: Running;
  private closed = false;

  constructor(private readonly o: JobRunnerOptions) {
    this.store = new JobStore(o.jobsDir, (m) => o.log?.(m));
    // Temporaries of a worker that died with the previous server.
    void cleanStaleTemporaries(o.modelsDir);
    for (const job of this.store.list()) if (job.state === 'interrupted') void this.syncWithCheckpoint(job);
  }

  /** The job's checkpoint: where a resume starts. */
  private checkpointOf(id: string): string {
    return join(this.store.folder(id), 'train.checkpoint');
  }

  /** Epochs and history as far as the checkpoint holds them (the saved job may lag it). */
  private async syncWithCheckpoint(job: Job): Promise<void> {
    const ck = await loadCheckpoint(this.checkpointOf(job.id)).catch(() => undefined);
    if (!ck) return;
    historyFromLog(job, ck.log);
    await this.store.save(job).catch(() => undefined);
  }

  async submit(input: JobSpecInput): Promise<Job> {
    if (this.closed) throw new JobStateError('the server is stopping; submit the job again after it restarts');
    const spec = parseJobSpec(input);
    this.checkName(spec);
    await this.o.dataRoot.check(spec);
    // Checked again: another submit may have taken the name while the data was being checked.
    this.checkName(spec);
    const job = newJob(newJobId(), spec);
    await this.store.save(job);
    this.emit(job, 'job');
    this.queue.push(job.id);
    this.pump();
    return job;
  }

  list(): Job[] {
    return this.store.list();
  }

  get(id: string): Job | undefined {
    return this.store.get(id);
  }

  async cancel(id: string): Promise<Job> {
    const job = this.mustGet(id);
    if (this.running?.id === id) {
      await this.stopRunning('cancelled');
      return this.mustGet(id);
    }
    if (job.state !== 'queued') throw new JobStateError(`job ${id} is ${job.state}; only a queued or running job can be cancelled`);
    const at = this.queue.indexOf(id);
    if (at >= 0) this.queue.splice(at, 1);
    await this.finish(job, 'cancelled');
    return job;
  }

  async resume(id: string): Promise<Job> {
    const job = this.mustGet(id);
    if (this.closed) throw new JobStateError('the server is stopping; resume the job after it restarts');
    if (!['interrupted', 'cancelled', 'failed'].includes(job.state)) {
      throw new JobStateError(`job ${id} is ${job.state}; only an interrupted, cancelled or failed job can be resumed`);
    }
    this.checkName(job.spec, id);
    job.state = 'queued';
    job.resumes = (job.resumes ?? 0) + 1;
    delete job.error;
    delete job.finishedAt;
    await this.store.save(job);
    this.emit(job, 'job');
    this.queue.push(id);
    this.pump();
    return job;
  }

  subscribe(id: string, listener: JobListener): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(id) === set) this.listeners.delete(id);
    };
  }

  /** Listeners attached now (for tests: none may leak when clients go away). */
  listenerCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const id of this.queue.splice(0)) {
      const job = this.store.get(id);
      if (job) await this.finish(job, 'interrupted', 'the server stopped before the job started; resume queues it again');
    }
    await this.stopRunning('interrupted');
    await this.store.flush();
  }

  private mustGet(id: string): Job {
    const job = this.store.get(id);
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  private checkName(spec: JobSpec, self?: string): void {
    const name = spec.name;
    const other = this.store.list().find((j) => j.id !== self && j.spec.name === name && (j.state === 'queued' || j.state === 'running'));
    if (other) throw new JobConflictError(`name '${name}': job ${other.id} is already training a model of that name`);
    if (!spec.replace && (this.o.hasModel(name) || existsSync(join(this.o.modelsDir, name)))) {
      throw new JobConflictError(`name '${name}': a model of that name exists; choose another name or set replace: true`);
    }
  }

  private emit(job: Job, type: 'job' | 'progress'): void {
    for (const l of [...(this.listeners.get(job.id) ?? [])]) {
      try {
        l({ type, job });
      } catch (e) {
        this.o.log?.(`job ${job.id}: a listener failed (${(e as Error).message})`);
      }
    }
  }

  private async finish(job: Job, state: Job['state'], error?: string): Promise<void> {
    job.state = state;
    job.finishedAt = new Date().toISOString();
    if (error) job.error = error;
    else delete job.error;
    delete job.progress.eta_s;
    this.emit(job, 'job');
    await this.store.save(job).catch((e: Error) => this.o.log?.(`job ${job.id}: cannot save its state (${e.message})`));
  }

  private async stopRunning(why: 'cancelled' | 'interrupted'): Promise<void> {
    const r = this.running;
    if (!r) return;
    r.stop ??= why;
    // The child gets SIGTERM (SIGKILL if it has not stopped after 30 s); one not started yet never runs.
    r.abort.abort();
    await r.done;
  }

  private pump(): void {
    if (this.running || this.closed) return;
    const id = this.queue.shift();
    if (id === undefined) return;
    let settle!: () => void;
    const r: Running = { id, abort: new AbortController(), done: new Promise((res) => (settle = res)), lastTick: 0, lastSave: 0 };
    this.running = r;
    void this.run(r)
      .catch((e: Error) => this.o.log?.(`job ${id}: ${e.message}`))
      .finally(() => {
        this.running = undefined;
        settle();
        this.pump();
      });
  }

  private async run(r: Running): Promise<void> {
    const job = this.mustGet(r.id);
    const { spec } = job;
    let task: WorkerTask;
    try {
      // Checked again at start: the data may have changed since the job was queued.
      const data = await this.o.dataRoot.check(spec);
      const checkpointPath = this.checkpointOf(job.id);
      task = {
        kind: 'train',
        data: data.data as WorkerTask['data'],
        backbone: data.backbone,
        out: join(this.o.modelsDir, spec.name),
        checkpointPath,
        resume: existsSync(checkpointPath),
        epochs: spec.epochs,
        preset: spec.preset,
        seed: spec.seed,
        ...(this.o.trainConfig ? { configFile: this.o.trainConfig } : {}),
      };
    } catch (e) {
      return this.finish(job, 'failed', oneLine((e as Error).message));
    }
    if (r.stop) return this.finish(job, r.stop);
    if (task.resume) await this.syncWithCheckpoint(job);
    job.state = 'running';
    job.startedAt = new Date().toISOString();
    // The task of a run that died is stale; the epochs done (and their history) stay.
    delete job.progress.task;
    job.progress.step = 0;
    job.progress.steps = 0;
    delete job.finishedAt;
    delete job.error;
    await this.store.save(job);
    this.emit(job, 'job');

    const outcome = await this.spawn(r, job, task);
    // A worker killed hard leaves its temporaries; they are ours, named with its (now dead) pid.
    await cleanStaleTemporaries(this.o.modelsDir);
    if (outcome.type === 'done') {
      try {
        await this.o.onModel(spec.name, task.out);
        job.model = spec.name;
        return this.finish(job, 'succeeded');
      } catch (e) {
        return this.finish(job, 'failed', `the model was saved in ${task.out} but cannot be served (${oneLine((e as Error).message)})`);
      }
    }
    if (r.stop === 'interrupted') return this.finish(job, 'interrupted', 'the server stopped during training; resume continues from the last checkpoint');
    if (r.stop === 'cancelled') return this.finish(job, 'cancelled');
    return this.finish(job, 'failed', outcome.type === 'failed' ? outcome.message : 'the training process stopped unexpectedly');
  }

  /** Runs the task in a child process (childTask.ts); resolves with its outcome when it has exited. */
  private spawn(r: Running, job: Job, task: WorkerTask): Promise<ChildOutcome> {
    return runTaskInChild(task, {
      signal: r.abort.signal,
      onProgress: (event) => {
        applyProgress(job, event);
        const now = Date.now();
        if (event.type === 'epoch') {
          this.emit(job, 'progress');
          // The whole job (its history grows) goes out and to disk at most once a second.
          if (now - r.lastSave >= SAVE_MS) {
            r.lastSave = now;
            this.emit(job, 'job');
            void this.store.save(job).catch(() => undefined);
          }
        } else if (event.type !== 'progress' || now - r.lastTick >= TICK_MS) {
          r.lastTick = now;
          this.emit(job, 'progress');
        }
      },
    });
  }
}

registerJobRunner('local', (o) => new LocalJobRunner(o));
