/**
 * The web app's training jobs on the Redis queue (`simplenet serve --redis`): the same JobRunner as
 * the local one, so the routes and the page do not change. Job records stay in the server's job
 * store (the routes read them synchronously); the queue runs them on `simplenet worker`s and its
 * events (active, progress, completed, failed) update the records. The checkpoint lives in the
 * job's folder under --jobs-dir and the model under --models-dir: both must be on a filesystem the
 * workers share, so a job retried on another worker resumes where the dead one stopped.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Job as BullJob, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { oneLine } from '../core/progress.js';
import { JobConflictError, JobNotFoundError, JobStateError } from '../jobs/jobErrors.js';
import { type JobListener, type JobRunner, type JobRunnerOptions, registerJobRunner } from '../jobs/jobRunner.js';
import { type Job, type JobSpec, type JobSpecInput, newJob, parseJobSpec } from '../jobs/jobSpec.js';
import { JobStore, newJobId } from '../jobs/jobStore.js';
import { describeTask, type TrainTask } from '../jobs/taskSpec.js';
import { cancelChannel, DEFAULT_ATTEMPTS, KEEP_COMPLETED, type QueueJobData, type QueueProgress } from './queueOptions.js';
import { maskSecrets, parseRedisUrl } from './redisUrl.js';

export class RedisJobRunner implements JobRunner {
  private readonly store: JobStore;
  private readonly queue: Queue<QueueJobData>;
  private readonly events: QueueEvents;
  private readonly listeners = new Map<string, Set<JobListener>>();
  /** Jobs this server asked to cancel: their failure is a cancellation. */
  private readonly cancelling = new Set<string>();
  private closed = false;

  constructor(
    private readonly o: JobRunnerOptions,
    private readonly url: string,
    queueName: string,
  ) {
    this.store = new JobStore(o.jobsDir, (m) => this.log(m));
    const connection = parseRedisUrl(url);
    this.queue = new Queue<QueueJobData>(queueName, { connection });
    this.queue.on('error', (e) => this.log(`queue: ${e.message}`));
    this.events = new QueueEvents(queueName, { connection });
    this.events.on('error', (e) => this.log(`queue events: ${e.message}`));
    this.events.on('active', ({ jobId }) => void this.onActive(jobId));
    this.events.on('progress', ({ jobId, data }) => this.onProgress(jobId, data));
    this.events.on('completed', ({ jobId }) => void this.onCompleted(jobId));
    this.events.on('failed', ({ jobId, failedReason }) => void this.onFailed(jobId, failedReason));
    // The store marked jobs of the previous server `interrupted`; the queue may still be running them.
    void this.syncWithQueue();
  }

  private log(m: string): void {
    this.o.log?.(maskSecrets(m, this.url));
  }

  private async syncWithQueue(): Promise<void> {
    for (const job of this.store.list()) {
      if (job.state !== 'interrupted') continue;
      const bull = await BullJob.fromId<QueueJobData>(this.queue, job.id).catch(() => undefined);
      if (!bull) continue;
      const state = await bull.getState();
      if (state === 'active') await this.onActive(job.id);
      else if (state === 'waiting' || state === 'delayed' || state === 'prioritized') await this.set(job, 'queued');
      else if (state === 'completed') await this.onCompleted(job.id);
      else if (state === 'failed') await this.onFailed(job.id, bull.failedReason);
    }
  }

  private async set(job: Job, state: Job['state'], error?: string): Promise<void> {
    job.state = state;
    if (state === 'running') job.startedAt ??= new Date().toISOString();
    if (state === 'succeeded' || state === 'failed' || state === 'cancelled' || state === 'interrupted') {
      job.finishedAt = new Date().toISOString();
      delete job.progress.eta_s;
    } else delete job.finishedAt;
    if (error) job.error = error;
    else delete job.error;
    this.emit(job, 'job');
    await this.store.save(job).catch((e: Error) => this.log(`job ${job.id}: cannot save its state (${e.message})`));
  }

  private async onActive(id: string): Promise<void> {
    const job = this.store.get(id);
    if (job && job.state !== 'running') await this.set(job, 'running');
  }

  private onProgress(id: string, data: unknown): void {
    const job = this.store.get(id);
    if (!job || typeof data !== 'object' || data === null) return;
    const p = data as QueueProgress;
    job.progress = p.progress;
    if (p.history) job.history = p.history;
    if (job.state !== 'running') job.state = 'running';
    this.emit(job, 'progress');
  }

  private async onCompleted(id: string): Promise<void> {
    const job = this.store.get(id);
    if (!job || job.state === 'succeeded') return;
    const dir = join(this.o.modelsDir, job.spec.name);
    try {
      await this.o.onModel(job.spec.name, dir);
      job.model = job.spec.name;
      await this.set(job, 'succeeded');
    } catch (e) {
      await this.set(job, 'failed', `the model was saved in ${dir} but cannot be served (${oneLine((e as Error).message)})`);
    }
  }

  private async onFailed(id: string, reason: string): Promise<void> {
    const job = this.store.get(id);
    if (!job) return;
    // A failed attempt with attempts left goes back to the queue: only the last failure counts.
    const bull = await BullJob.fromId<QueueJobData>(this.queue, id).catch(() => undefined);
    if (bull && (await bull.getState()) !== 'failed') return;
    if (this.cancelling.delete(id)) await this.set(job, 'cancelled');
    else await this.set(job, 'failed', maskSecrets(oneLine(reason), this.url));
  }

  private emit(job: Job, type: 'job' | 'progress'): void {
    for (const l of [...(this.listeners.get(job.id) ?? [])]) {
      try {
        l({ type, job });
      } catch (e) {
        this.log(`job ${job.id}: a listener failed (${(e as Error).message})`);
      }
    }
  }

  private checkName(spec: JobSpec, self?: string): void {
    const name = spec.name;
    const other = this.store.list().find((j) => j.id !== self && j.spec.name === name && (j.state === 'queued' || j.state === 'running'));
    if (other) throw new JobConflictError(`name '${name}': job ${other.id} is already training a model of that name`);
    if (!spec.replace && (this.o.hasModel(name) || existsSync(join(this.o.modelsDir, name)))) {
      throw new JobConflictError(`name '${name}': a model of that name exists; choose another name or set replace: true`);
    }
  }

  /** Puts the job on the queue, under its own id (so queue events find the record). */
  private async enqueue(job: Job): Promise<void> {
    const data = await this.o.dataRoot.check(job.spec);
    const task: TrainTask = {
      kind: 'train',
      data: data.data as TrainTask['data'],
      backbone: data.backbone,
      out: join(this.o.modelsDir, job.spec.name),
      checkpointPath: join(this.store.folder(job.id), 'train.checkpoint'),
      resume: false,
      epochs: job.spec.epochs,
      preset: job.spec.preset,
      seed: job.spec.seed,
      ...(this.o.trainConfig ? { configFile: this.o.trainConfig } : {}),
    };
    await this.queue.add(
      'train',
      { task, label: `${job.spec.name}: ${describeTask(task)}` },
      { jobId: job.id, attempts: DEFAULT_ATTEMPTS, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: KEEP_COMPLETED },
    );
  }

  async submit(input: JobSpecInput): Promise<Job> {
    if (this.closed) throw new JobStateError('the server is stopping; submit the job again after it restarts');
    const spec = parseJobSpec(input);
    this.checkName(spec);
    await this.o.dataRoot.check(spec);
    this.checkName(spec);
    const job = newJob(newJobId(), spec);
    await this.store.save(job);
    this.emit(job, 'job');
    await this.enqueue(job);
    return job;
  }

  list(): Job[] {
    return this.store.list();
  }

  get(id: string): Job | undefined {
    return this.store.get(id);
  }

  async cancel(id: string): Promise<Job> {
    const job = this.store.get(id);
    if (!job) throw new JobNotFoundError(id);
    if (job.state !== 'queued' && job.state !== 'running') throw new JobStateError(`job ${id} is ${job.state}; only a queued or running job can be cancelled`);
    const bull = await BullJob.fromId<QueueJobData>(this.queue, id);
    const state = bull ? await bull.getState() : 'missing';
    if (state === 'active') {
      this.cancelling.add(id);
      const pub = new Redis(parseRedisUrl(this.url));
      pub.on('error', () => undefined);
      await pub.publish(cancelChannel(this.queue.name), id).finally(() => pub.disconnect());
      return job;
    }
    await bull?.remove().catch(() => undefined);
    await this.set(job, 'cancelled');
    return job;
  }

  async resume(id: string): Promise<Job> {
    const job = this.store.get(id);
    if (!job) throw new JobNotFoundError(id);
    if (this.closed) throw new JobStateError('the server is stopping; resume the job after it restarts');
    if (!['interrupted', 'cancelled', 'failed'].includes(job.state)) {
      throw new JobStateError(`job ${id} is ${job.state}; only an interrupted, cancelled or failed job can be resumed`);
    }
    this.checkName(job.spec, id);
    // A fresh queue job under the same id: the old one (failed, or cancelled while running) goes.
    await (await BullJob.fromId<QueueJobData>(this.queue, id))?.remove().catch(() => undefined);
    job.resumes = (job.resumes ?? 0) + 1;
    await this.set(job, 'queued');
    await this.enqueue(job);
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

  /** Stops listening; the jobs keep running on the workers, and a restarted server finds them again. */
  async close(): Promise<void> {
    this.closed = true;
    await this.events.close().catch(() => undefined);
    await this.queue.close().catch(() => undefined);
    await this.store.flush();
  }
}

registerJobRunner('redis', (o) => {
  if (!o.redis) throw new Error("job runner 'redis' needs the redis option (--redis <url>)");
  return new RedisJobRunner(o, o.redis.url, o.redis.queue);
});
