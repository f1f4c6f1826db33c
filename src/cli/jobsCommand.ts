/** `simplenet jobs list|show|cancel|retry --redis URL`: the queue's jobs, as a table or JSON. */
import type { Command } from 'commander';
import { DEFAULT_QUEUE } from '../queue/queueOptions.js';
import { type QueueJobInfo, TaskQueue } from '../queue/taskQueue.js';

interface JobsFlags {
  redis: string;
  queue: string;
  json?: boolean;
}

function row(j: QueueJobInfo): string {
  const p = j.progress?.progress;
  const where = p?.task ? ` · ${p.task}${p.steps > 0 ? ` ${p.step}/${p.steps}` : ''}` : '';
  return [j.id, j.state, `attempts ${j.attempts}`, j.label + where, j.error ? `error: ${j.error}` : ''].filter(Boolean).join('\t');
}

async function withQueue<T>(flags: JobsFlags, f: (q: TaskQueue) => Promise<T>): Promise<T> {
  const q = await TaskQueue.open(flags.redis, flags.queue);
  try {
    return await f(q);
  } finally {
    await q.close();
  }
}

function print(flags: JobsFlags, info: QueueJobInfo | QueueJobInfo[]): void {
  if (flags.json) process.stdout.write(`${JSON.stringify(info, null, Array.isArray(info) ? undefined : 1)}\n`);
  else for (const j of [info].flat()) process.stdout.write(`${row(j)}\n`);
}

export function jobsCommand(program: Command): void {
  const jobs = program.command('jobs').description('the jobs of a Redis queue: list, show, cancel, retry');
  const common = (c: Command) =>
    c
      .requiredOption('--redis <url>', 'Redis URL (the password is never printed)')
      .option('--queue <name>', 'queue name', DEFAULT_QUEUE)
      .option('--json', 'JSON instead of tab-separated lines');
  common(jobs.command('list').description('every job the queue holds, oldest first')).action((flags: JobsFlags) =>
    withQueue(flags, async (q) => print(flags, await q.list())),
  );
  common(jobs.command('show').description("one job: state, attempts, progress, result or the last attempt's error").argument('<id>')).action(
    (id: string, flags: JobsFlags) =>
      withQueue(flags, async (q) => {
        const j = await q.show(id);
        if (flags.json) print(flags, j);
        else process.stdout.write(`${JSON.stringify(j, null, 1)}\n`);
      }),
  );
  common(jobs.command('cancel').description('remove a waiting job, or stop a running one (no further attempts; its checkpoint stays)').argument('<id>')).action(
    (id: string, flags: JobsFlags) => withQueue(flags, async (q) => print(flags, await q.cancel(id))),
  );
  common(jobs.command('retry').description('queue a failed job again; training resumes from its checkpoint').argument('<id>')).action(
    (id: string, flags: JobsFlags) => withQueue(flags, async (q) => print(flags, await q.retry(id))),
  );
}
