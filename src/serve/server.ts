/**
 * `simplenet serve`: an inspection service on fastify over the Detector facade. Routes: predict
 * (predictRoute.ts), the model list and details, health and readiness, Prometheus metrics, the
 * OpenAPI document and an API explorer served from this package (no CDN), the web app at /
 * (webRoutes.ts), a token-protected reload, and training jobs (jobRoutes.ts) when the server has
 * a data root. Every error is a JSON `{ error: { code, message } }` without a stack trace.
 */
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { VERSION } from '../core/version.js';
import { readTrainingLog } from '../model/modelDir.js';
import { QueueFullError } from './batcher.js';
import { addJobRoutes, type JobRoutesOptions } from './jobRoutes.js';
import type { ServiceMetrics } from './metrics.js';
import { modelInfo } from './modelInfo.js';
import type { ModelSet } from './modelSet.js';
import { addPredictRoute, HttpError, IMAGE_TYPES } from './predictRoute.js';
import { ErrorSchema, jsonSchema, ModelInfoSchema, ModelListSchema, TrainingLogSchema } from './schemas.js';
import { addAuth, addCors } from './security.js';
import { addWebRoutes } from './webRoutes.js';

export interface ServerOptions {
  models: ModelSet;
  metrics: ServiceMetrics;
  /** Bearer token for everything but /healthz and /readyz. */
  token?: string;
  /** Largest request body, bytes (default 20 MiB). */
  bodyLimit?: number;
  /** A request not answered within this many ms gets 504 (default 30 000). */
  timeoutMs?: number;
  /** The one origin allowed to call from a browser (CORS off without it). */
  cors?: string;
  /** fastify's logger (pino) options; false for none. */
  logger?: FastifyServerOptions['logger'];
  /** Whether the models are loaded and warmed (readiness). */
  ready: () => boolean;
  reload: () => Promise<string[]>;
  /** Training jobs (serve --data-root); without it the job routes answer 409 jobs_disabled. */
  jobs?: JobRoutesOptions;
  /** The built web app to serve at / (default: this package's dist/web). */
  webDir?: string;
}

const FASTIFY_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body_too_large'],
  FST_REQ_FILE_TOO_LARGE: [413, 'body_too_large'],
  FST_PARTS_LIMIT: [413, 'too_many_parts'],
  FST_FILES_LIMIT: [413, 'too_many_files'],
  FST_ERR_CTP_EMPTY_BODY: [400, 'empty_body'],
  FST_ERR_VALIDATION: [400, 'bad_request'],
};

/**
 * The service, ready to `listen`.
 * @example const app = await buildServer({ models, metrics, ready: () => true, reload: () => models.load() });
 */
export async function buildServer(o: ServerOptions): Promise<FastifyInstance> {
  const bodyLimit = o.bodyLimit ?? 20 * 2 ** 20;
  const app = Fastify({
    logger: o.logger ?? false,
    bodyLimit,
    requestIdHeader: 'x-request-id',
  });
  // Only image bodies and multipart: a text or JSON body must never become a path to decode.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(IMAGE_TYPES, { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));
  await app.register(multipart, { limits: { fileSize: bodyLimit, files: 64, fields: 16 } });
  await app.register(swagger, {
    openapi: { openapi: '3.1.0', info: { title: 'simplenet', version: VERSION, description: 'SimpleNet anomaly detection: score images of parts' } },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  addCors(app, o.cors);
  addWebRoutes(app, o.webDir);
  addAuth(app, o.token);
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    o.metrics.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    o.metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler(async (err: Error & { code?: string; statusCode?: number }, req, reply) => {
    let status = 500;
    let code = 'internal';
    let message = 'internal error (see the server log)';
    if (err instanceof HttpError) {
      [status, code, message] = [err.status, err.code, err.message];
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
    } else if (err instanceof QueueFullError) {
      [status, code, message] = [503, 'overloaded', `${err.message}; retry later`];
      reply.header('retry-after', '1');
    } else if (err.code && FASTIFY_ERRORS[err.code]) {
      [status, code] = FASTIFY_ERRORS[err.code];
      message = err.message;
    } else if (err.statusCode && err.statusCode < 500) {
      [status, code, message] = [err.statusCode, 'bad_request', err.message];
    }
    if (status >= 500 && status !== 503 && status !== 504) req.log.error({ err }, 'request failed');
    return reply.code(status).send({ error: { code, message } });
  });
  app.setNotFoundHandler(async (req, reply) =>
    reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } }),
  );

  const errors = { '4xx': jsonSchema(ErrorSchema) };
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) =>
    o.ready() ? { status: 'ready', models: o.models.names() } : reply.code(503).send({ error: { code: 'not_ready', message: 'models are loading' } }),
  );
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(o.metrics.registry.contentType).send(await o.metrics.registry.metrics()));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/v1/models', { schema: { description: 'The models this server holds', response: { 200: jsonSchema(ModelListSchema), ...errors } } }, async () => {
    const out = [];
    for (const name of o.models.names()) {
      const m = o.models.acquire(name);
      if (!m) continue;
      try {
        out.push(await modelInfo(m));
      } finally {
        o.models.release(m);
      }
    }
    return { models: out };
  });
  app.get<{ Params: { name: string } }>(
    '/v1/models/:name',
    {
      schema: {
        description: 'One model: backbone, preset, selected epoch, thresholds, test metrics if a report exists',
        response: { 200: jsonSchema(ModelInfoSchema), ...errors },
      },
    },
    async (req) => {
      const m = o.models.acquire(req.params.name);
      if (!m) throw new HttpError(404, 'unknown_model', `no model named '${req.params.name}'`);
      try {
        return await modelInfo(m);
      } finally {
        o.models.release(m);
      }
    },
  );
  app.get<{ Params: { name: string } }>(
    '/v1/models/:name/model.onnx',
    {
      schema: {
        description: 'The whole scoring graph as one ONNX model (`simplenet export`, plus the image_crop output), for scoring in a browser or elsewhere',
      },
    },
    async (req, reply) => {
      const m = o.models.acquire(req.params.name);
      if (!m) throw new HttpError(404, 'unknown_model', `no model named '${req.params.name}'`);
      try {
        // With image_crop: the web app draws its overlays on the graph's own crop.
        m.exported ??= m.detector.exportBytes({ batch: 'dynamic', withCrop: true });
        const bytes = await m.exported;
        return reply.type('application/octet-stream').header('content-disposition', `attachment; filename="${m.name}.onnx"`).send(Buffer.from(bytes));
      } finally {
        o.models.release(m);
      }
    },
  );
  app.get<{ Params: { name: string } }>(
    '/v1/models/:name/training-log',
    {
      schema: {
        description: "The model's training_log.csv: loss, p_true, p_fake and validation AUROCs per epoch",
        response: { 200: jsonSchema(TrainingLogSchema), ...errors },
      },
    },
    async (req) => {
      const m = o.models.acquire(req.params.name);
      if (!m) throw new HttpError(404, 'unknown_model', `no model named '${req.params.name}'`);
      try {
        return { epochs: await readTrainingLog(m.dir).catch(() => []) };
      } finally {
        o.models.release(m);
      }
    },
  );
  addPredictRoute(app, o.models, { timeoutMs: o.timeoutMs ?? 30_000 });
  await addJobRoutes(app, o.jobs);
  app.post('/v1/admin/reload', { schema: { description: 'Reloads every model from its folder; requests in flight finish on the old ones' } }, async () => ({
    models: await o.reload(),
  }));
  return app;
}
