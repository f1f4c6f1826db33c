/**
 * `POST /v1/models/{name}/predict`: one image as the body (image/png, jpeg, webp, tiff, bmp) or
 * several as multipart/form-data. Each is decoded (sharp works off the event loop), queued on the
 * model's micro-batcher and answered with `predict --json`'s fields; `?map=png` adds the overlay,
 * `?map=layers` the heatmap and the cropped image as two PNGs (for a viewer with an opacity
 * slider: the web app), `Accept: image/png` returns the overlay itself. All are built from the
 * scoring graph's outputs and colormap.ts: no second copy of any processing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ScoreResult } from '../api/detector.js';
import { predictLine } from '../api/outputs.js';
import { heatmapPng, overlayPng, rgbPng } from '../images/overlayPng.js';
import { type DecodedImage, decodeImage } from '../images/decode.js';
import { checkExactFit } from '../scoring/scorer.js';
import type { ModelSet, ServedModel } from './modelSet.js';
import { ErrorSchema, ImageResultSchema, jsonSchema, PredictQuerySchema, PredictResponseSchema } from './schemas.js';

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/tiff', 'image/bmp'];

/** An answer that is an HTTP status with a JSON error. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

async function images(req: FastifyRequest): Promise<{ name: string; bytes: Buffer }[]> {
  if (!req.isMultipart()) {
    if (!Buffer.isBuffer(req.body)) throw new HttpError(415, 'unsupported_media_type', `send an image (${IMAGE_TYPES.join(', ')}) or multipart/form-data`);
    return [{ name: 'body', bytes: req.body }];
  }
  const out: { name: string; bytes: Buffer }[] = [];
  for await (const part of req.parts()) {
    if (part.type !== 'file') continue;
    out.push({ name: part.filename || part.fieldname, bytes: await part.toBuffer() });
  }
  if (out.length === 0) throw new HttpError(400, 'no_image', 'the multipart body holds no file');
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HttpError(504, 'timeout', `the image was not scored within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

type Pictures = { map_png?: string } | { heatmap_png: string; crop_png: string } | Record<string, never>;

async function pictures(r: ScoreResult, map: Query['map']): Promise<Pictures> {
  if (map === 'png') return { map_png: (await overlayPng(r.crop!, r.anomalyMapNormalized, r.width, r.height)).toString('base64') };
  if (map !== 'layers') return {};
  const [heat, crop] = await Promise.all([heatmapPng(r.anomalyMapNormalized, r.width, r.height), rgbPng(r.crop!, r.width, r.height)]);
  return { heatmap_png: heat.toString('base64'), crop_png: crop.toString('base64') };
}

function answer(m: ServedModel, name: string, r: ScoreResult, pics: Pictures) {
  // predict --json's line, plus what a remote caller cannot look up in the model folder.
  return ImageResultSchema.parse({
    ...predictLine(name, r),
    pixel_threshold: m.detector.info.pixelThreshold,
    threshold_source: m.detector.info.thresholdSource,
    ...pics,
  });
}

type Query = { map?: 'png' | 'layers' };

export function addPredictRoute(app: FastifyInstance, models: ModelSet, opts: { timeoutMs: number }): void {
  app.post<{ Params: { name: string }; Querystring: Query }>(
    '/v1/models/:name/predict',
    {
      schema: {
        description: 'Scores one image (the body) or several (multipart/form-data): the fields of `simplenet predict --json`, per image',
        params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        querystring: jsonSchema(PredictQuerySchema),
        response: { 200: jsonSchema(PredictResponseSchema), '4xx': jsonSchema(ErrorSchema), '5xx': jsonSchema(ErrorSchema) },
      },
    },
    async (req: FastifyRequest<{ Params: { name: string }; Querystring: Query }>, reply: FastifyReply) => {
      const m = models.acquire(req.params.name);
      if (!m) throw new HttpError(404, 'unknown_model', `no model named '${req.params.name}' (models: ${models.names().join(', ')})`);
      try {
        const inputs = await images(req);
        const wantPng = (req.headers.accept ?? '').includes('image/png');
        if (wantPng && inputs.length !== 1) throw new HttpError(406, 'one_image_for_png', 'Accept: image/png answers with one overlay: send one image');
        let decoded: DecodedImage[];
        try {
          decoded = await Promise.all(inputs.map((i) => decodeImage(i.bytes, { label: i.name })));
        } catch (e) {
          const tooLarge = (e as Error).name === 'ImageTooLargeError';
          throw new HttpError(tooLarge ? 413 : 400, tooLarge ? 'image_too_large' : 'bad_image', (e as Error).message);
        }
        // Refused here, one image at a time, rather than failing a batch of other requests' images.
        for (const d of decoded) {
          try {
            checkExactFit(d, m.detector.model.config.image);
          } catch (e) {
            throw new HttpError(422, 'image_too_elongated', (e as Error).message);
          }
        }
        const results = await withTimeout(Promise.all(decoded.map((d) => m.batcher.submit(d))), opts.timeoutMs);
        const overlay = (r: ScoreResult) => overlayPng(r.crop!, r.anomalyMapNormalized, r.width, r.height);
        if (wantPng) return reply.type('image/png').send(await overlay(results[0]));
        const pics = await Promise.all(results.map((r) => pictures(r, req.query.map)));
        return { model: m.name, images: results.map((r, i) => answer(m, inputs[i].name, r, pics[i])) };
      } finally {
        models.release(m);
      }
    },
  );
}
