/**
 * The producer's side of the queue: add tasks, wait for them with their progress, and the
 * operations of `simplenet jobs` (list, show, cancel, retry). Opening checks Redis first, so an
 * unreachable server is one clear error, never a hang.
 */
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { type Task, describeTask } from '../jobs/taskSpec.js';
import { checkRedis } from './connect.js';
import { cancelChannel, DEFAULT_ATTEMPTS, DEFAULT_QUEUE, KEEP_COMPLETED, type QueueJobData, type QueueProgress } from './queueOptions.js';
import { maskSecrets, parseRedisUrl } from './redisUrl.js';

/** One job as `jobs list` and `jobs show` print it. */
export interface QueueJobInfo {
  id: string;
  kind: string;
  label: string;
  state: string;
  attempts: number;
  /** The last error (kept after the final attempt failed). */
  error?: string;
  progress?: QueueProgress;
  result?: unknown;
  createdAt: string;
  finishedAt?: string;
}

export interface WaitHandlers {
  onProgress?(id: string, progress: QueueProgress): void;
  /** A job completed (called once per job, as it happens). */
  onDone?(id: string, result: unknown): void;
}

export class TaskQueue {
  private events?: QueueEvents;

  private constructor(
    readonly queue: Queue<QueueJobData>,
    private readonly url: string,
    readonly name: string,
  ) {}

  /**
   * Checks that Redis answers, then opens the queue.
   * @throws Error naming the masked URL when Redis cannot be reached.
   */
  static async open(url: string, name = DEFAULT_QUEUE): Promise<TaskQueue> {
    await checkRedis(url);
    const queue = new Queue<QueueJobData>(name, { connection: parseRedisUrl(url) });
    queue.on('error', () => undefined);
    return new TaskQueue(queue, url, name);
  }

  /** Adds one task; returns its job id. */
  async add(task: Task, attempts = DEFAULT_ATTEMPTS): Promise<string> {
    const job = await this.queue.add(
      task.kind,
      { task, label: describeTask(task) },
      { attempts, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: KEEP_COMPLETED },
    );
    if (!job.id) throw new Error('the queue gave the job no id');
    return job.id;
  }

  /** Events of this queue (opened on first use). */
  private async queueEvents(): Promise<QueueEvents> {
    if (!this.events) {
      this.events = new QueueEvents(this.name, { connection: parseRedisUrl(this.url) });
      this.events.on('error', () => undefined);
      await this.events.waitUntilReady();
    }
    return this.events;
  }

  /**
   * Waits until every job has finished; resolves with their results in the order of `ids`.
   * @throws Error naming the first job that failed for good (after its attempts), with its error.
   */
  async waitAll(ids: readonly string[], handlers: WaitHandlers = {}): Promise<unknown[]> {
    const events = await this.queueEvents();
    const pending = new Set(ids);
    const results = new Map<string, unknown>();
    return new Promise<unknown[]>((resolve, reject) => {
      let settled = false;
      const finish = (e?: Error) => {
        if (settled) return;
        settled = true;
        clearInterval(poll);
        events.off('progress', onProgress);
        events.off('completed', check);
        events.off('failed', check);
        if (e) reject(e);
        else resolve(ids.map((id) => results.get(id)));
      };
      const onProgress = ({ jobId, data }: { jobId: string; data: unknown }) => {
        if (pending.has(jobId) && typeof data === 'object' && data !== null) handlers.onProgress?.(jobId, data as QueueProgress);
      };
      // The state in Redis is the truth (an event may be missed while reconnecting): look it up on
      // each event and every few seconds.
      const check = () => {
        void (async () => {
          for (const id of [...pending]) {
            const job = await Job.fromId<QueueJobData>(this.queue, id);
            if (!job) return finish(new Error(`job ${id} is no longer in the queue (removed or cancelled)`));
            const state = await job.getState();
            if (state === 'completed') {
              results.set(id, job.returnvalue);
              pending.delete(id);
              handlers.onDone?.(id, job.returnvalue);
            } else if (state === 'failed') {
              return finish(
                new Error(`job ${id} (${job.data.label}) failed after ${job.attemptsMade} attempts: ${maskSecrets(job.failedReason ?? 'no reason', this.url)}`),
              );
            }
          }
          if (pending.size === 0) finish();
        })().catch((e: Error) => finish(new Error(maskSecrets(e.message, this.url))));
      };
      const poll = setInterval(check, 2000);
      events.on('progress', onProgress);
      events.on('completed', check);
      events.on('failed', check);
      check();
    });
  }

  private async info(job: Job<QueueJobData>): Promise<QueueJobInfo> {
    const state = await job.getState();
    const progress = typeof job.progress === 'object' && job.progress !== null ? (job.progress as unknown as QueueProgress) : undefined;
    return {
      id: job.id ?? '?',
      kind: job.data.task.kind,
      label: job.data.label,
      state,
      attempts: job.attemptsMade,
      ...(job.failedReason ? { error: maskSecrets(job.failedReason, this.url) } : {}),
      ...(progress ? { progress } : {}),
      ...(job.returnvalue !== undefined && job.returnvalue !== null ? { result: job.returnvalue } : {}),
      createdAt: new Date(job.timestamp).toISOString(),
      ...(job.finishedOn ? { finishedAt: new Date(job.finishedOn).toISOString() } : {}),
    };
  }

  /** Every job the queue still holds, oldest first. */
  async list(): Promise<QueueJobInfo[]> {
    const jobs = await this.queue.getJobs(['active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed']);
    const infos = await Promise.all(jobs.filter((j): j is Job<QueueJobData> => Boolean(j)).map((j) => this.info(j)));
    return infos.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || Number(a.id) - Number(b.id));
  }

  /**
   * One job.
   * @throws Error `no job '<id>' in queue <name>`.
   */
  async show(id: string): Promise<QueueJobInfo> {
    return this.info(await this.mustGet(id));
  }

  private async mustGet(id: string): Promise<Job<QueueJobData>> {
    const job = await Job.fromId<QueueJobData>(this.queue, id);
    if (!job) throw new Error(`no job '${id}' in queue ${this.name}`);
    return job;
  }

  /**
   * Cancels a job: a waiting one is removed; a running one is stopped by its worker (told over
   * pub/sub) and failed without retry; its checkpoint stays, so `retry` continues it.
   * @throws Error when the job has already finished.
   */
  async cancel(id: string): Promise<QueueJobInfo> {
    const job = await this.mustGet(id);
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') throw new Error(`job ${id} is ${state}; only a waiting or running job can be cancelled`);
    if (state === 'active') {
      const pub = new Redis(parseRedisUrl(this.url));
      pub.on('error', () => undefined);
      try {
        await pub.publish(cancelChannel(this.name), id);
      } finally {
        pub.disconnect();
      }
      return { ...(await this.info(job)), state: 'cancelling' };
    }
    const info = await this.info(job);
    await job.remove();
    return { ...info, state: 'cancelled (removed)' };
  }

  /**
   * Queues a failed job again (its attempts start over; training resumes from its checkpoint).
   * @throws Error when the job has not failed.
   */
  async retry(id: string): Promise<QueueJobInfo> {
    const job = await this.mustGet(id);
    const state = await job.getState();
    if (state !== 'failed') throw new Error(`job ${id} is ${state}; only a failed job can be retried`);
    await job.retry('failed');
    return this.info(await this.mustGet(id));
  }

  async close(): Promise<void> {
    await this.events?.close().catch(() => undefined);
    await this.queue.close().catch(() => undefined);
  }
}
