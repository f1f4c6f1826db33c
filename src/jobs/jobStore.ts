/**
 * Jobs on disk: one folder per job under the jobs dir, holding `job.json` (written atomically, so
 * a crash leaves the previous state, never half a file) and the job's training checkpoint. Opening
 * the store turns jobs left `queued` or `running` into `interrupted`: the server that ran them is
 * gone, and `resume` continues them from their checkpoint.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { type Job, JobSchema } from './jobSpec.js';

const ID = /^j-[0-9a-z]+-[0-9a-f]{6}$/;

/** A new job id: sortable by creation time, unguessable enough not to collide. */
export function newJobId(now = Date.now()): string {
  return `j-${now.toString(36)}-${randomBytes(3).toString('hex')}`;
}

export class JobStore {
  private readonly jobs = new Map<string, Job>();
  /** Writes of one job in order: a later state never lands before an earlier one. */
  private readonly writes = new Map<string, Promise<void>>();

  /**
   * Opens (and creates) the jobs dir and reads every job in it; unreadable job files are skipped
   * with a warning rather than stopping the server.
   */
  constructor(
    readonly dir: string,
    warn: (message: string) => void = () => undefined,
  ) {
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir).sort()) {
      if (!ID.test(name)) continue;
      const path = join(dir, name, 'job.json');
      let job: Job;
      try {
        job = JobSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
      } catch (e) {
        warn(`${path}: not a readable job record, skipped (${(e as Error).message.split('\n')[0]})`);
        continue;
      }
      if (job.state === 'queued' || job.state === 'running') {
        job.state = 'interrupted';
        job.error = 'the server stopped before the job finished; resume continues it from its checkpoint';
        job.finishedAt ??= new Date().toISOString();
        void this.save(job);
      }
      this.jobs.set(job.id, job);
    }
  }

  /** The job's own folder (its checkpoint lives there). */
  folder(id: string): string {
    return join(this.dir, id);
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** Every job, oldest first. */
  list(): Job[] {
    return [...this.jobs.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Records `job` (new or changed) in memory at once and on disk in order; resolves when written. */
  save(job: Job): Promise<void> {
    this.jobs.set(job.id, job);
    const snapshot = JSON.stringify(job, null, 1);
    const prev = this.writes.get(job.id) ?? Promise.resolve();
    const next = prev.then(() => writeFileAtomic(join(this.folder(job.id), 'job.json'), snapshot, 'json'));
    const settled = next.catch(() => undefined);
    this.writes.set(job.id, settled);
    void settled.then(() => {
      if (this.writes.get(job.id) === settled) this.writes.delete(job.id);
    });
    return next;
  }

  /** Resolves when every write started so far has landed. */
  async flush(): Promise<void> {
    await Promise.all(this.writes.values());
  }
}
