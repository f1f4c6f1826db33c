/**
 * The service's request and response shapes as zod schemas: the same ones build the OpenAPI
 * document (/openapi.json) and serialise the answers. An image's answer is `predict --json`'s line
 * (api/outputs.ts) plus the pixel threshold and, on request, the overlay.
 */
import { z } from 'zod';
import { PredictLineSchema } from '../api/outputs.js';
import { JobSchema } from '../jobs/jobSpec.js';

export const ImageResultSchema = PredictLineSchema.omit({ overlay: true, map: true }).extend({
  pixel_threshold: z.number(),
  threshold_source: z.string(),
  /** With `?map=png`: the heatmap over the resized, cropped image, PNG in base64. */
  map_png: z.string().optional(),
  /** With `?map=layers`: the heatmap layer alone (jet of the normalised map), PNG in base64. */
  heatmap_png: z.string().optional(),
  /** With `?map=layers`: the resized, cropped image the map lies on, PNG in base64. */
  crop_png: z.string().optional(),
});

export const PredictResponseSchema = z.object({
  model: z.string(),
  images: z.array(ImageResultSchema),
});

export const ErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});

export const ModelInfoSchema = z.object({
  name: z.string(),
  backbone: z.record(z.string(), z.unknown()),
  preset: z.string(),
  epochs: z.number().int(),
  seed: z.number().int(),
  selected: z.object({ by: z.string(), epoch: z.number().int(), score: z.number().optional() }).optional(),
  image_threshold: z.number(),
  pixel_threshold: z.number(),
  threshold_source: z.string(),
  map_size: z.number().int(),
  /** How images fill the model's frame (`image.fit`) and, for 'tile', the tile rows and columns ([1, 1] otherwise). */
  fit: z.string(),
  tiles: z.tuple([z.number().int(), z.number().int()]),
  /** Fit 'crop': the shorter side after resizing, before the centre crop (with map_size, fit and tiles, the geometry a client needs to check an image's fit). */
  resize: z.number().int(),
  created_at: z.string(),
  /** The model folder's test metrics (metrics.json beside the model or in its report), when present. */
  test_metrics: z.record(z.string(), z.unknown()).optional(),
});

export const ModelListSchema = z.object({ models: z.array(ModelInfoSchema) });

export const PredictQuerySchema = z.object({ map: z.enum(['png', 'layers']).optional() });

/** One epoch of training_log.csv, as `GET /v1/models/{name}/training-log` answers it. */
export const TrainingLogSchema = z.object({
  epochs: z.array(
    z.object({
      epoch: z.number().int(),
      loss: z.number(),
      pTrue: z.number(),
      pFake: z.number(),
      seconds: z.number(),
      lrFactor: z.number().optional(),
      valImageAuroc: z.number().optional(),
      valPatchAuroc: z.number().optional(),
      valPatchAupro: z.number().optional(),
      event: z.string().optional(),
    }),
  ),
});

/**
 * A zod schema as the JSON Schema fastify and OpenAPI take: what is sent (`output`, the default),
 * or what a client may send (`input`: fields with defaults are optional).
 */
export function jsonSchema(s: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { target: 'draft-7', io }) as Record<string, unknown>;
  return rest;
}

export const JobResponseSchema = z.object({ job: JobSchema });

export const JobListSchema = z.object({ jobs: z.array(JobSchema) });

export const DatasetListSchema = z.object({
  /** The data root's real path; entries' paths are relative to it. */
  root: z.string(),
  entries: z.array(
    z.object({
      path: z.string(),
      format: z.string(),
      categories: z.array(z.string()).optional(),
      goodImages: z.number().int(),
    }),
  ),
});
