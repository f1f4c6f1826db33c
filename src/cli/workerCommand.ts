/** `simplenet worker`: runs queued jobs on this machine until SIGINT / SIGTERM. */
import type { Command } from 'commander';
import { DEFAULT_QUEUE } from '../queue/queueOptions.js';
import { startQueueWorker } from '../queue/queueWorker.js';
import { intOption } from './options.js';

interface WorkerFlags {
  redis: string;
  concurrency: number;
  queue: string;
  lockDuration?: number;
  stalledInterval?: number;
  quiet?: boolean;
}

export function workerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      'run jobs from a Redis queue (benchmark runs, scoring chunks, web-app training) on this machine; outputs go to the paths in each job, a shared filesystem',
    )
    .requiredOption('--redis <url>', 'Redis URL, e.g. redis://host:6379 or redis://:password@host:6379 (the password is never printed)')
    .option('--concurrency <n>', 'jobs run at the same time, each in its own process', intOption('--concurrency', 1), 1)
    .option('--queue <name>', 'queue name', DEFAULT_QUEUE)
    .option(
      '--lock-duration <ms>',
      "how long a job's lock lasts without renewal; a dead worker's job is retried after it (default 30000)",
      intOption('--lock-duration', 1000),
    )
    .option('--stalled-interval <ms>', 'how often this worker looks for jobs of dead workers (default 15000)', intOption('--stalled-interval', 500))
    .option('--quiet', 'no job log')
    .action(async (flags: WorkerFlags) => {
      const log = flags.quiet ? undefined : (m: string) => process.stderr.write(`simplenet: ${m}\n`);
      const worker = await startQueueWorker({
        url: flags.redis,
        queue: flags.queue,
        concurrency: flags.concurrency,
        lockDurationMs: flags.lockDuration,
        stalledIntervalMs: flags.stalledInterval,
        log,
      });
      // A stopped worker hands its running jobs back: they go to another worker and resume from their checkpoints.
      process.removeAllListeners('SIGTERM');
      process.removeAllListeners('SIGINT');
      const stop = (signal: string, code: number) => {
        process.stderr.write(`simplenet: ${signal}: stopping; running jobs go back to the queue\n`);
        void worker.close().finally(() => process.exit(code));
      };
      process.once('SIGTERM', () => stop('SIGTERM', 143));
      process.once('SIGINT', () => stop('SIGINT', 130));
      await new Promise<never>(() => undefined);
    });
}
