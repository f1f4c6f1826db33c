/** The backbone manifest's JSON shape and its parser (errors name the file and the field). */
import { z } from 'zod';
import { oneLine } from '../core/progress.js';

const rgb = z.tuple([z.number(), z.number(), z.number()]);

/**
 * The schema of a backbone manifest .json (backbones/mobilenet_v2.json is one): which ONNX file,
 * its input, its normalisation and its output layers. Unknown fields are refused.
 * @example const manifest = BackboneManifestSchema.parse(JSON.parse(await readFile('backbones/mobilenet_v2.json', 'utf8')));
 */
export const ManifestSchema = z
  .object({
    /** The ONNX file, relative to the manifest's folder. */
    onnx: z.string().min(1),
    /** The graph input fed with the normalised NCHW float32 image. */
    input: z.string().min(1),
    /** Per-channel mean of (pixel/255 − mean)/std, RGB. */
    mean: rgb,
    /** Per-channel standard deviation, RGB; positive. */
    std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
    /** Output names the features come from, finest grid first. */
    layers: z.array(z.string().min(1)).min(1),
    /** Free text for people (provenance, licence); ignored by the engine. */
    description: z.string().optional(),
  })
  .strict();

/**
 * A backbone manifest: the ONNX file (relative to the manifest), its input name, normalisation and
 * feature layers. Exported as `BackboneManifest`.
 * @example
 * const m: BackboneManifest = { onnx: 'my_net.onnx', input: 'input', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], layers: ['stage2', 'stage3'] };
 */
export type Manifest = z.infer<typeof ManifestSchema>;

function fieldName(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let v = obj;
  for (const p of path) v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/** Parses manifest text; errors read `<file>: field 'mean[1]': …`. */
export function parseManifest(text: string, file: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${oneLine((e as Error).message)}`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    throw new Error(`${file}: unknown field '${issue.keys[0]}' (allowed: ${Object.keys(ManifestSchema.shape).join(', ')})`);
  }
  if (issue.path.length === 0) throw new Error(`${file}: expected a JSON object with fields onnx, input, mean, std, layers`);
  const field = fieldName(issue.path);
  if (valueAt(raw, issue.path) === undefined) throw new Error(`${file}: field '${field}' is missing`);
  throw new Error(`${file}: field '${field}': ${issue.message}`);
}
