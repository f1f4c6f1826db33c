/**
 * simplenet.json's shape, checked on read, so a damaged or hand-edited manifest is one error naming
 * the field instead of a TypeError deep in graph building (issue 11's fuzz corpus found both). The
 * config and the calibration have their own parsers (config.ts, scoring/calibration.ts); here they
 * only need to be objects.
 */
import { z } from 'zod';

/** A file of the model folder: a plain name, so no manifest can point a reader outside the folder. */
const fileName = z
  .string()
  .regex(/^[^/\\]+$/, 'a file name inside the model folder')
  .refine((s) => s !== '.' && s !== '..', 'a file name');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in hex');
const dim = z
  .number()
  .int()
  .positive()
  .max(1 << 20);
const finite = z.number().finite();

/**
 * The shape of simplenet.json (a model folder's manifest), checked when a model is written and
 * loaded; a program that reads a manifest itself checks it with this. The configuration and
 * calibration in it are only checked to be objects here (`loadModel` parses them fully).
 * @example const r = ModelManifestSchema.safeParse(JSON.parse(await readFile('runs/bottle/simplenet.json', 'utf8')));
 */
export const ModelManifestSchema = z.looseObject({
  format: z.string(),
  formatVersion: z.number(),
  simplenetVersion: z.string(),
  createdAt: z.string(),
  preset: z.string(),
  config: z.record(z.string(), z.unknown()),
  backbone: z.looseObject({
    identity: z.looseObject({ kind: z.enum(['builtin', 'onnx']) }),
    inputName: z.string().min(1),
    mean: z.tuple([finite, finite, finite]),
    std: z.tuple([finite.positive(), finite.positive(), finite.positive()]),
    layers: z.array(z.string().min(1)).min(1),
    layerShapes: z.array(z.object({ channels: dim, height: dim, width: dim })).min(1),
    file: fileName,
    sha256,
  }),
  heads: z.object({ file: fileName, sha256 }),
  training: z.looseObject({ seed: z.number().int(), epochs: z.number().int().nonnegative(), logFile: fileName.optional() }),
  scoring: z.record(z.string(), z.unknown()).optional(),
});

/** The first problem as `field 'a.b': message`. */
export function manifestProblem(raw: unknown): string | undefined {
  const r = ModelManifestSchema.safeParse(raw);
  if (r.success) {
    const m = r.data;
    if (m.backbone.layers.length !== m.backbone.layerShapes.length)
      return `field 'backbone.layerShapes': ${m.backbone.layerShapes.length} shapes for ${m.backbone.layers.length} layers`;
    return undefined;
  }
  const issue = r.error.issues[0];
  return `field '${issue.path.join('.') || '(root)'}': ${issue.message}`;
}
