/**
 * The JSON that the CLI prints for tools (`predict --json` lines, `train`'s and `export`'s
 * summaries) as zod schemas: checked when printed, and what a program parses them with. The
 * service answers with the same `PredictLine` fields. Keys are snake_case (docs/ARCHITECTURE.md).
 */
import { z } from 'zod';
import type { ScoreResult } from './detector.js';

const label = z.union([z.literal(0), z.literal(1)]);

/**
 * One line of `simplenet predict --json`: one scored image. Parse the CLI's output with it.
 * @example
 * for (const line of stdout.trim().split('\n')) console.log(PredictLineSchema.parse(JSON.parse(line)).score);
 */
export const PredictLineSchema = z.object({
  /** The image's path as given. */
  path: z.string(),
  /** Raw image score (higher = more anomalous). */
  score: z.number(),
  /** The score normalised so that 0.5 is the threshold, in [0, 1]. */
  score_normalized: z.number().min(0).max(1),
  /** 1 = anomalous (score > threshold). */
  label,
  /** The raw image-score threshold the label used. */
  threshold: z.number(),
  /** With `--out`: the heatmap overlay and the raw map written for this image. */
  overlay: z.string().optional(),
  map: z.string().optional(),
});
/**
 * One scored image as `predict --json` prints it and the service answers (snake_case keys).
 * @example
 * const line: PredictLine = { path: 'a.png', score: 0.71, score_normalized: 0.83, label: 1, threshold: 0.42 };
 */
export type PredictLine = z.infer<typeof PredictLineSchema>;

/**
 * A ScoreResult as `predict --json` prints it.
 * @example process.stdout.write(`${JSON.stringify(predictLine('a.png', r))}\n`);
 */
export function predictLine(path: string, r: ScoreResult, files?: { overlay: string; map: string }): PredictLine {
  return PredictLineSchema.parse({ path, score: r.score, score_normalized: r.scoreNormalized, label: r.label, threshold: r.threshold, ...(files ?? {}) });
}

/**
 * What `simplenet train` prints on stdout (one JSON line) when the model is saved.
 * @example const { model, epochs, selected } = TrainSummarySchema.parse(JSON.parse(stdout));
 */
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
/**
 * A finished training run: the model folder, epochs, seed, optimiser steps, time, the last epoch's
 * loss and discriminator outputs, and which epoch's weights were kept.
 * @example
 * const s: TrainSummary = { model: 'runs/bottle', epochs: 32, seed: 0, steps: 760, seconds: 412.5, preset: 'validated', selected: { by: 'validation', epoch: 24 } };
 */
export type TrainSummary = z.infer<typeof TrainSummarySchema>;

/**
 * What `simplenet export` prints on stdout (one JSON line).
 * @example const { out, bytes } = ExportSummarySchema.parse(JSON.parse(stdout));
 */
export const ExportSummarySchema = z.object({
  out: z.string(),
  bytes: z.number().int().positive(),
  batch: z.union([z.number().int().positive(), z.literal('dynamic')]),
  fp16: z.boolean(),
  /** The backbone's arithmetic baked into the graph (absent from summaries written before int8 existed). */
  precision: z.enum(['fp32', 'int8']).optional(),
  threshold: z.number(),
  threshold_source: z.string(),
});
/**
 * An exported ONNX model: where it was written, its size, its batch axis and the threshold baked in.
 * @example
 * const s: ExportSummary = { out: 'bottle.onnx', bytes: 11534336, batch: 'dynamic', fp16: false, threshold: 0.42, threshold_source: 'validation-quantile' };
 */
export type ExportSummary = z.infer<typeof ExportSummarySchema>;
