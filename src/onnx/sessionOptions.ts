/**
 * The settings of an onnxruntime session (session.ts), on their own so that the worker pool
 * (workerSessions.ts), which session.ts builds on, can take them too.
 */

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
