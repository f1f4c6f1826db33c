/**
 * The work a job does, as plain JSON: one definition for the local runner's child process and for
 * the Redis queue's workers, so a task means the same wherever it runs. Paths are absolute (a
 * queue worker on another machine resolves them on the shared filesystem). Every kind is
 * idempotent: its output is written atomically, and a task whose output already exists complete
 * returns the stored result instead of running again.
 */
import { z } from 'zod';

const DatasetSpecSchema = z.looseObject({ format: z.string().min(1) });

/** Train one model into `out`, checkpointing every epoch at `checkpointPath` (resumed when present). */
export const TrainTaskSchema = z.object({
  kind: z.literal('train'),
  data: DatasetSpecSchema,
  backbone: z.string().min(1),
  out: z.string().min(1),
  checkpointPath: z.string().min(1),
  resume: z.boolean(),
  /** Absent: the library's default epochs. */
  epochs: z.number().int().min(1).optional(),
  preset: z.enum(['validated', 'paper']),
  seed: z.number().int().min(0),
  /** A config file applied on top (the server's --train-config). */
  configFile: z.string().optional(),
});

/** One category × seed of a benchmark: its model under `<out>/models/…` and its result row under `<out>/runs/`. */
export const BenchmarkRunTaskSchema = z.object({
  kind: z.literal('benchmark-run'),
  dataset: DatasetSpecSchema,
  category: z.string().min(1),
  seed: z.number().int().min(0),
  backbone: z.string().min(1),
  weights: z.string().optional(),
  /** The benchmark's whole configuration (SimpleNetConfig as JSON); the seed is set per run. */
  config: z.record(z.string(), z.unknown()),
  out: z.string().min(1),
  evalEvery: z.number().int().min(1).optional(),
});

/** Score a list of images with one model; one JSON line per image (in order) written to `out`. */
export const ScoreChunkTaskSchema = z.object({
  kind: z.literal('score-chunk'),
  model: z.string().min(1),
  images: z.array(z.string().min(1)).min(1),
  out: z.string().min(1),
  threshold: z.number().optional(),
});

/** A no-op, for measuring the queue's own overhead per job. */
export const NoopTaskSchema = z.object({ kind: z.literal('noop') });

export const TaskSchema = z.discriminatedUnion('kind', [TrainTaskSchema, BenchmarkRunTaskSchema, ScoreChunkTaskSchema, NoopTaskSchema]);

export type Task = z.infer<typeof TaskSchema>;
export type TrainTask = z.infer<typeof TrainTaskSchema>;
export type BenchmarkRunTask = z.infer<typeof BenchmarkRunTaskSchema>;
export type ScoreChunkTask = z.infer<typeof ScoreChunkTaskSchema>;
export type TaskKind = Task['kind'];

/** One line naming the task, for progress lines and `jobs list`. */
export function describeTask(t: Task): string {
  switch (t.kind) {
    case 'train':
      return `train ${t.out}`;
    case 'benchmark-run':
      return `benchmark ${t.category} seed ${t.seed}`;
    case 'score-chunk':
      return `score ${t.images.length} images → ${t.out}`;
    case 'noop':
      return 'noop';
  }
}
