/**
 * What a training job is, as plain JSON: the spec a client posts (checked with zod) and the job
 * record the runner keeps and the routes answer. One definition for every runner (the local one
 * here, a queue-backed one later), so nothing in it may be a class, a function or a path outside
 * the data root.
 */
import { z } from 'zod';
import { oneLine } from '../core/progress.js';
import { JobSpecError } from './jobErrors.js';

/** A model name: it becomes a folder under --models-dir, so no separators and no leading dot. */
export const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

export const JobSpecSchema = z
  .object({
    kind: z.literal('train'),
    name: z.string().regex(MODEL_NAME, "a model name: letters, digits, '.', '_' and '-', at most 64, starting with a letter or digit"),
    /** Replace a model of the same name when the job succeeds. */
    replace: z.boolean().default(false),
    dataset: z
      .object({
        /** A registered dataset format (datasets/formats.ts), checked when the job is submitted. */
        format: z.string().min(1),
        /** Relative to the server's --data-root. */
        path: z.string().min(1),
        category: z.string().min(1).optional(),
      })
      .strict(),
    /** A builtin backbone name, or a manifest .json under the data root. */
    backbone: z.string().min(1).default('mobilenet_v2'),
    /**
     * Exactly this many epochs. Absent: the library's default, as `simplenet train` without
     * `--epochs` (at least 6 epochs and `train.minSteps` steps, 8 epochs on bottle; 160 under
     * 'paper'), or the server's --train-config.
     */
    epochs: z.number().int().min(1).max(1000).optional(),
    preset: z.enum(['validated', 'paper']).default('validated'),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
  })
  .strict();

/** A job spec as posted (defaults not yet applied). */
export type JobSpecInput = z.input<typeof JobSpecSchema>;
/** A job spec with its defaults applied. */
export type JobSpec = z.output<typeof JobSpecSchema>;

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** States a job leaves only by `resume`. */
export const FINAL_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);

export const EpochRecordSchema = z.object({
  epoch: z.number().int(),
  loss: z.number(),
  p_true: z.number(),
  p_fake: z.number(),
  seconds: z.number(),
  // null: not computable (JSON has no NaN), e.g. no defective patch on a coarse grid.
  val_image_auroc: z.number().nullable().optional(),
  val_patch_auroc: z.number().nullable().optional(),
});
export type EpochRecord = z.infer<typeof EpochRecordSchema>;

export const JobProgressSchema = z.object({
  /** The task the trainer is on ('extracting features', 'epoch 3/8', …). */
  task: z.string().optional(),
  /** Epochs finished. */
  epoch: z.number().int(),
  /** Epochs the run trains: the spec's, or 0 until the trainer starts its first epoch when the spec left it to the default. */
  epochs: z.number().int(),
  /** Steps done in the current epoch (or items of the current task), out of `steps`. */
  step: z.number().int(),
  steps: z.number().int(),
  loss: z.number().optional(),
  val_image_auroc: z.number().nullable().optional(),
  val_patch_auroc: z.number().nullable().optional(),
  /** Estimated seconds to the end of training, from the epochs so far. */
  eta_s: z.number().optional(),
  /** The last information line or warning from the trainer. */
  message: z.string().optional(),
  updated_at: z.string().optional(),
});
export type JobProgress = z.infer<typeof JobProgressSchema>;

export const JobSchema = z.object({
  id: z.string(),
  spec: JobSpecSchema,
  state: z.enum(JOB_STATES),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  /** One line, for failed (and interrupted) jobs. */
  error: z.string().optional(),
  progress: JobProgressSchema,
  /** One record per finished epoch (bounded), so a page opened late can draw the curves. */
  history: z.array(EpochRecordSchema),
  /** The model's name once it is saved and served. */
  model: z.string().optional(),
  /** Times this job was resumed. */
  resumes: z.number().int().optional(),
});
export type Job = z.infer<typeof JobSchema>;

/** Per-epoch records kept per job: more than any sensible run, few enough to send on every connect. */
export const HISTORY_LIMIT = 1000;

/** A new job record for `spec`, queued. */
export function newJob(id: string, spec: JobSpec, now = new Date()): Job {
  return {
    id,
    spec,
    state: 'queued',
    createdAt: now.toISOString(),
    progress: { epoch: 0, epochs: spec.epochs ?? 0, step: 0, steps: 0 },
    history: [],
  };
}

/**
 * A submitted job spec, checked: the defaults filled in, or a JobSpecError naming the first bad field.
 * @throws JobSpecError naming the field and what was expected.
 * @example const spec = parseJobSpec({ kind: 'train', name: 'cable', dataset: { format: 'mvtec', path: 'mvtec_ad', category: 'cable' } });
 */
export function parseJobSpec(input: unknown): JobSpec {
  const parsed = JobSpecSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(job)');
  throw new JobSpecError(`${field}: ${oneLine(issue.message)}`);
}
