/**
 * The settings of an onnxruntime session (session.ts), on their own so that the worker pool
 * (workerSessions.ts), which session.ts builds on, can take them too.
 */
import { availableParallelism } from 'node:os';

/**
 * onnxruntime settings for a detector's session: threads and graph optimisation. Both optional.
 * @example const detector = await Detector.load('runs/bottle', { session: { intraOpThreads: 4, optimization: 'all' } });
 */
export interface SessionOptions {
  /** Threads for one operator; defaults to onnxruntime's choice (all cores). */
  intraOpThreads?: number;
  /** 'all' lets onnxruntime fuse ops; 'basic' keeps the graph as built (used by fidelity tests). Default 'all'. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * onnxruntime's CPU memory arena (default true): buffers are kept for the next run, fastest for
   * one input shape; false returns them after each run, so memory follows the current batch
   * instead of the largest batch seen (the service, whose batches vary).
   */
  memoryArena?: boolean;
  /**
   * Whether idle intra-op threads spin waiting for work (default true, onnxruntime's own default):
   * lowest latency for one caller; false leaves the cores to other work between operators (image
   * decoding in the service).
   */
  spinning?: boolean;
  /**
   * Worker threads that run the graph, each with its own copy of the session (memory grows with
   * the weights × workers). Default 0: runs hold the calling thread, as onnxruntime-node's `run`
   * does. With workers the event loop stays free while a graph runs, and up to `workers` runs are
   * in flight at once (the service: `simplenet serve --workers`); `intraOpThreads` applies to each.
   */
  workers?: number;
}

/**
 * Settings only the library sets. memoryPattern false: onnxruntime then does not plan one block per
 * input shape on top of what its arena already holds from the first run. For the training step
 * (64 MB per [10368, 1536] intermediate, about twenty of them) that pair was 1.3 GiB against 0.75
 * without it (issue 16), for the same numbers: where a buffer lives changes no arithmetic.
 */
export interface InternalSessionOptions extends SessionOptions {
  memoryPattern?: boolean;
}

/**
 * Settings for `workers` runs of the graph side by side (worker threads, each its own session) of
 * `threads` onnxruntime threads each (default: the cores shared out among the workers); 0 workers:
 * one session on the calling thread with every core. On 2 cores two 1-thread runs side by side
 * score more images per second than one 2-thread run, whose operators are too small to keep both
 * cores busy, and leave room for decoding: MobileNetV2 16.8 → 25.6 images/s end to end on bottle
 * (README, `npm run bench`). Threads that spin while they wait would take the cores from
 * the other run and from decoding, so they sleep.
 * @throws RangeError when `workers` is not an integer ≥ 0 or `threads` not an integer ≥ 1.
 * @example const session = sideBySideSession(2); // { workers: 2, intraOpThreads: cores / 2, spinning: false, memoryArena: true }
 */
export function sideBySideSession(workers: number, threads?: number): SessionOptions {
  if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`workers must be an integer ≥ 0, got ${workers}`);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) throw new RangeError(`threads must be an integer ≥ 1, got ${threads}`);
  const intraOpThreads = threads ?? Math.max(1, Math.floor(availableParallelism() / Math.max(1, workers)));
  return { memoryArena: true, spinning: false, workers, intraOpThreads };
}
