/**
 * metrics.json (`test --json` and a report's metrics.json): the evaluation's metrics plus what was
 * evaluated, checked against one schema when written and when read back (the service shows a
 * model's test metrics from it). Keys are snake_case, as in every JSON file simplenet writes for
 * tools (docs/ARCHITECTURE.md, "Output files").
 */
import { readRegularFile } from '../io/readRegular.js';
import { z } from 'zod';
import { FileError } from '../io/ioError.js';
import type { Metrics } from './evaluate.js';
import { METRICS } from './metricSpecs.js';
import { oneLine } from '../core/progress.js';

const metric = z.number().min(0).max(1).nullable();
const stats = z.object({ n: z.number().int(), mean: z.number(), std: z.number(), min: z.number(), max: z.number(), quantile: z.number(), q: z.number() });

/**
 * The schema of metrics.json, which `simplenet test --json <file>` writes and a report folder
 * holds; a program checks JSON it did not read through `readMetricsJson` with it.
 * @example const m = MetricsJsonSchema.parse(JSON.parse(await readFile('metrics.json', 'utf8'))); console.log(m.image_auroc);
 */
export const MetricsJsonSchema = z.looseObject({
  ...Object.fromEntries(METRICS.map((m) => [m.key, metric])),
  image_f1_threshold: z.number().nullable(),
  pixel_f1_threshold: z.number().nullable(),
  image_threshold: z.number(),
  pixel_threshold: z.number(),
  good_scores: stats.nullable(),
  n_images: z.number().int().nonnegative(),
  n_defective: z.number().int().nonnegative(),
  n_good: z.number().int().nonnegative(),
  notes: z.array(z.string()),
  // What was evaluated.
  epochs: z.number().int(),
  seed: z.number().int(),
  preset: z.string(),
  category: z.string(),
  dataset_format: z.string(),
  model: z.string(),
  threshold_source: z.string(),
  oracle: z.string().optional(),
  test_seconds: z.number().optional(),
  images_per_second: z.number().optional(),
  images: z.array(z.object({ path: z.string(), label: z.union([z.literal(0), z.literal(1)]), defect_type: z.string(), score: z.number() })).optional(),
});

/**
 * A parsed metrics.json: every `Metrics` field plus what was evaluated (model, category, dataset
 * format, seed, epochs, the threshold's source) and, when asked for, each image's score.
 * @example
 * const m: MetricsJson = await readMetricsJson('runs/bottle/report/metrics.json');
 * console.log(`${m.category}: image AUROC ${m.image_auroc}, threshold from ${m.threshold_source}`);
 */
export type MetricsJson = z.infer<typeof MetricsJsonSchema> & Metrics;

function problem(r: z.ZodSafeParseResult<unknown>): string | undefined {
  if (r.success) return undefined;
  const i = r.error.issues[0];
  return `field '${i.path.join('.') || '(root)'}': ${i.message}`;
}

/**
 * The metrics.json text for `metrics` and what was evaluated.
 * @throws Error when the result does not fit the schema (a bug: nothing invalid is ever written).
 */
export function metricsJsonText(metrics: Metrics, about: Record<string, unknown>): string {
  const value = { ...metrics, ...about };
  const p = problem(MetricsJsonSchema.safeParse(value));
  if (p) throw new Error(`metrics.json would not be valid: ${p}`);
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Reads and checks a metrics.json.
 * @throws FileError when it cannot be read; Error naming the file and field when it is not valid.
 * @example const m = await readMetricsJson('runs/bottle/report/metrics.json'); console.log(m.image_auroc);
 */
export async function readMetricsJson(path: string): Promise<MetricsJson> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readRegularFile(path, 'utf8'));
  } catch (e) {
    if (e instanceof SyntaxError) throw new Error(`${path}: not valid JSON (${oneLine(e.message)})`);
    throw new FileError(path, 'cannot read metrics', e);
  }
  const r = MetricsJsonSchema.safeParse(raw);
  const p = problem(r);
  if (p) throw new Error(`${path}: not a simplenet metrics.json: ${p}`);
  return r.data as MetricsJson;
}
