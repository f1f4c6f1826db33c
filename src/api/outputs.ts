/**
 * The JSON that the CLI prints for tools (`predict --json` lines, `train`'s and `export`'s
 * summaries) as zod schemas: checked when printed, and what a program parses them with. The
 * service answers with the same `PredictLine` fields. Keys are snake_case (docs/ARCHITECTURE.md).
 */
import { z } from 'zod';
import type { ScoreResult } from './detector.js';

const label = z.union([z.literal(0), z.literal(1)]);

/** One line of `simplenet predict --json`: one scored image. */
export const PredictLineSchema = z.object({
  path: z.string(),
  score: z.number(),
  score_normalized: z.number().min(0).max(1),
  label,
  threshold: z.number(),
  /** With `--out`: the heatmap overlay and the raw map written for this image. */
  overlay: z.string().optional(),
  map: z.string().optional(),
});
export type PredictLine = z.infer<typeof PredictLineSchema>;

/**
 * A ScoreResult as `predict --json` prints it.
 * @example process.stdout.write(`${JSON.stringify(predictLine('a.png', r))}\n`);
 */
export function predictLine(path: string, r: ScoreResult, files?: { overlay: string; map: string }): PredictLine {
  return PredictLineSchema.parse({ path, score: r.score, score_normalized: r.scoreNormalized, label: r.label, threshold: r.threshold, ...(files ?? {}) });
}

/** What `simplenet train` prints when the model is saved. */
export const TrainSummarySchema = z.object({
  model: z.string(),
  epochs: z.number().int(),
  seed: z.number().int(),
  steps: z.number().int(),
  seconds: z.number(),
  final: z.object({ loss: z.number(), p_true: z.number(), p_fake: z.number() }).optional(),
  preset: z.string(),
  selected: z.object({ by: z.enum(['final', 'validation']), epoch: z.number().int(), score: z.number().optional() }).optional(),
});
export type TrainSummary = z.infer<typeof TrainSummarySchema>;

/** What `simplenet export` prints. */
export const ExportSummarySchema = z.object({
  out: z.string(),
  bytes: z.number().int().positive(),
  batch: z.union([z.number().int().positive(), z.literal('dynamic')]),
  fp16: z.boolean(),
  threshold: z.number(),
  threshold_source: z.string(),
});
export type ExportSummary = z.infer<typeof ExportSummarySchema>;
