/**
 * The child process of a job (the local runner's and the queue worker's): it receives one task
 * over IPC, runs it (runTask.ts: training uses the library's `train()`, the same code path as
 * `simplenet train`, so the model folder is written crash-safely and the checkpoint is kept) and
 * sends progress back. SIGTERM, or
 * the parent going away (the IPC channel closes when the server dies, even by SIGKILL), aborts
 * training between steps: `train()` then removes its temporaries and keeps the last checkpoint.
 */
import { oneLine } from '../core/progress.js';
import { removeLiveTemporariesSync } from '../io/temporaries.js';
import { runTask } from './runTask.js';
import type { Task } from './taskSpec.js';
import type { FromWorker, ToWorker } from './workerProtocol.js';

/** Seconds an abort may take before the child gives up waiting and exits anyway. */
const ABORT_GRACE_MS = 20_000;

const controller = new AbortController();
const send = (m: FromWorker) => new Promise<void>((resolve) => (process.connected ? process.send!(m, () => resolve()) : resolve()));

function abort(): void {
  if (controller.signal.aborted) return;
  controller.abort();
  // Training stops at its next step; should one step hang, leave nothing half-written anyway.
  setTimeout(() => {
    removeLiveTemporariesSync();
    process.exit(143);
  }, ABORT_GRACE_MS).unref();
}

process.on('SIGTERM', abort);
process.on('SIGINT', abort);
process.on('disconnect', abort);

async function run(task: Task): Promise<void> {
  try {
    const result = await runTask(task, controller.signal, (event) => void send({ type: 'progress', event }));
    await send({ type: 'done', result });
    process.exit(0);
  } catch (e) {
    removeLiveTemporariesSync();
    if (controller.signal.aborted) {
      await send({ type: 'cancelled' });
      process.exit(143);
    }
    await send({ type: 'failed', message: oneLine((e as Error)?.message ?? String(e)) });
    process.exit(1);
  }
}

process.once('message', (m: ToWorker) => {
  if (m?.type === 'start') void run(m.task);
});
