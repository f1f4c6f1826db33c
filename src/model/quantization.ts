/**
 * A model folder's int8 calibration (`quantization.json`, written by `simplenet quantize`): the
 * activation ranges its backbone's QDQ twin is built from (src/onnx/quantize.ts), how and on what
 * they were measured, and the sha256 of the backbone they belong to. The int8 graph itself is
 * rebuilt from these ranges when a model is loaded with precision 'int8', so the folder keeps one
 * backbone file and the exported graph is still built by the one scoring path.
 */
import { createHash } from 'node:crypto';
import { readRegularFile } from '../io/readRegular.js';
import { join } from 'node:path';
import { z } from 'zod';
import { QUANTIZATION_FORMAT } from '../io/artefacts.js';
import { writeFileAtomic } from '../io/atomic.js';
import { FileError } from '../io/ioError.js';

/**
 * The file name inside a model folder.
 * @example const hasInt8 = existsSync(join('runs/bottle', QUANTIZATION_FILE));
 */
export const QUANTIZATION_FILE = 'quantization.json';

const rangeSchema = z.object({ min: z.number(), max: z.number() }).refine((r) => r.min <= r.max, 'min must not exceed max');

const recordSchema = z.object({
  format: z.literal(QUANTIZATION_FORMAT),
  version: z.literal(1),
  method: z.enum(['minmax', 'percentile', 'mse']),
  percentile: z.number().positive().max(100).optional(),
  weightBits: z.union([z.literal(7), z.literal(8)]),
  images: z.number().int().positive(),
  source: z.string(),
  backboneSha256: z.string().regex(/^[0-9a-f]{64}$/),
  created: z.string(),
  ranges: z.record(z.string(), rangeSchema),
  // Mixed precision (absent in records written before it: everything quantized).
  float: z.array(z.string()).optional(),
  floatThreshold: z.number().nonnegative().optional(),
  errors: z.record(z.string(), z.number().nonnegative()).optional(),
  // The output-error rule (records from before it have floatThreshold instead); null: Infinity, all in uint8.
  errorBudget: z.number().nonnegative().nullable().optional(),
  sensitivity: z.record(z.string(), z.number().nonnegative()).optional(),
  predictedError: z.number().nonnegative().optional(),
});

/**
 * The stored calibration: MinMax activation ranges (value name → {min, max}) measured on `images`
 * images from `source`, the weight width, and the backbone's sha256; `float`: the values kept
 * float32 (mixed precision; absent in older records: all quantized), chosen so that the taps'
 * predicted error `predictedError` from each value's measured effect `sensitivity[name]` stays
 * within `errorBudget` (null: no budget, all quantized), or, in records written before that rule
 * or by `floatThreshold`, because their own uint8 error `errors[name]` exceeded `floatThreshold`.
 * @example const q = await loadQuantization('runs/bottle'); if (q) console.log(q.images, q.source);
 */
export type QuantizationRecord = z.infer<typeof recordSchema>;

/**
 * sha256 (hex) of a backbone's ONNX bytes, tying ranges to the graph they were measured on.
 * @example const sha = backboneSha256(model.backbone.onnx);
 */
export function backboneSha256(onnx: Uint8Array): string {
  return createHash('sha256').update(onnx).digest('hex');
}

/**
 * Writes `quantization.json` into a model folder (atomically: a crash leaves the old one or none).
 * @throws OutputRefusedError when a file of the same name that simplenet did not write is there;
 * FileError when it cannot be written.
 * @example await saveQuantization('runs/bottle', record);
 */
export async function saveQuantization(dir: string, record: QuantizationRecord): Promise<string> {
  const path = join(dir, QUANTIZATION_FILE);
  await writeFileAtomic(path, `${JSON.stringify(recordSchema.parse(record), null, 1)}\n`, 'quantization');
  return path;
}

/**
 * Reads a model folder's calibration; undefined when it has none.
 * @throws FileError naming the file when it exists but cannot be read, is not JSON, or is not a
 * valid calibration (the first problem named).
 * @example const q = await loadQuantization(detector.model.dir);
 */
export async function loadQuantization(dir: string): Promise<QuantizationRecord | undefined> {
  const path = join(dir, QUANTIZATION_FILE);
  let text: string;
  try {
    text = await readRegularFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FileError(path, 'cannot read the int8 calibration', e);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FileError(path, 'is not JSON', e);
  }
  const parsed = recordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FileError(path, 'is not a valid int8 calibration', new Error(`${issue.path.join('.') || '(root)'}: ${issue.message}`));
  }
  return parsed.data;
}
