/**
 * The training-job routes: the datasets under the data root, submit / list / show / cancel / resume
 * a job, and a job's live events as server-sent events. They sit in their own fastify scope, the
 * only one that parses JSON bodies: image routes keep refusing them. Without --data-root every
 * route answers 409 `jobs_disabled`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DataRoot } from '../jobs/dataRoot.js';
import { listDatasets } from '../jobs/datasetList.js';
import { JobConflictError, JobNotFoundError, JobSpecError, JobStateError } from '../jobs/jobErrors.js';
import type { JobRunner } from '../jobs/jobRunner.js';
import { JobSpecSchema } from '../jobs/jobSpec.js';
import { HttpError } from './predictRoute.js';
import { DatasetListSchema, ErrorSchema, JobListSchema, JobResponseSchema, jsonSchema } from './schemas.js';

export interface JobRoutesOptions {
  runner: JobRunner;
  dataRoot: DataRoot;
  /** Comment lines keeping an idle event stream open through proxies (default 15 000 ms). */
  heartbeatMs?: number;
}

/** A runner's refusal as the HTTP answer it stands for. */
function httpError(e: unknown): unknown {
  if (e instanceof JobSpecError) return new HttpError(400, 'bad_job', e.message);
  if (e instanceof JobConflictError) return new HttpError(409, 'name_taken', e.message);
  if (e instanceof JobStateError) return new HttpError(409, 'bad_state', e.message);
  if (e instanceof JobNotFoundError) return new HttpError(404, 'unknown_job', e.message);
  return e;
}

const call = async <T>(fn: () => Promise<T> | T): Promise<T> => {
  try {
    return await fn();
  } catch (e) {
    throw httpError(e);
  }
};

const DISABLED = new HttpError(409, 'jobs_disabled', 'training jobs are off: start `simplenet serve` with --data-root <dir> and --models-dir <dir>');

/**
 * Adds the job routes to `app` (in a scope of their own).
 * @example await addJobRoutes(app, { runner, dataRoot });
 */
export async function addJobRoutes(app: FastifyInstance, o: JobRoutesOptions | undefined): Promise<void> {
  const need = (): JobRoutesOptions => {
    if (!o) throw DISABLED;
    return o;
  };
  const errors = { '4xx': jsonSchema(ErrorSchema) };
  const job = { 200: jsonSchema(JobResponseSchema), ...errors };
  const idParams = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] };
  const streams = new Set<() => void>();

  await app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      const text = String(body);
      if (text.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch (e) {
        done(Object.assign(new Error(`the body is not valid JSON (${(e as Error).message})`), { statusCode: 400 }));
      }
    });
    // Event streams never end by themselves: close them so the server can stop.
    scope.addHook('preClose', async () => {
      for (const end of [...streams]) end();
    });

    scope.get(
      '/v1/datasets',
      {
        schema: {
          description: 'Candidate training datasets under the data root (for the training form)',
          response: { 200: jsonSchema(DatasetListSchema), ...errors },
        },
      },
      async () => {
        const { dataRoot } = need();
        return { root: dataRoot.root, entries: await listDatasets(dataRoot) };
      },
    );

    scope.post(
      '/v1/jobs',
      {
        schema: {
          description: 'Starts a training job (queued; one runs at a time). 400 names what is wrong with the spec or its data; nothing is created then',
          body: jsonSchema(JobSpecSchema, 'input'),
          response: { 201: jsonSchema(JobResponseSchema), ...errors },
        },
        // The body is checked by zod in the handler, for messages that name the field.
        validatorCompiler: () => (value: unknown) => ({ value }),
      },
      async (req, reply) => {
        const { runner } = need();
        const created = await call(() => runner.submit(req.body as never));
        return reply.code(201).send({ job: created });
      },
    );

    scope.get(
      '/v1/jobs',
      { schema: { description: 'Every training job, oldest first', response: { 200: jsonSchema(JobListSchema), ...errors } } },
      async () => ({
        jobs: need().runner.list(),
      }),
    );

    scope.get<{ Params: { id: string } }>(
      '/v1/jobs/:id',
      { schema: { description: 'One training job: state, progress, per-epoch history, model when saved', params: idParams, response: job } },
      async (req) => {
        const found = need().runner.get(req.params.id);
        if (!found) throw httpError(new JobNotFoundError(req.params.id));
        return { job: found };
      },
    );

    scope.post<{ Params: { id: string } }>(
      '/v1/jobs/:id/cancel',
      { schema: { description: 'Cancels a queued or running job (its checkpoint stays; resume continues)', params: idParams, response: job } },
      async (req) => ({ job: await call(() => need().runner.cancel(req.params.id)) }),
    );

    scope.post<{ Params: { id: string } }>(
      '/v1/jobs/:id/resume',
      {
        schema: {
          description: 'Queues an interrupted, cancelled or failed job again; training continues from its checkpoint',
          params: idParams,
          response: job,
        },
      },
      async (req) => ({ job: await call(() => need().runner.resume(req.params.id)) }),
    );

    scope.get<{ Params: { id: string } }>(
      '/v1/jobs/:id/events',
      {
        schema: {
          description:
            "A job's live events (text/event-stream): `job` (the whole job) on connect and on every state change, `progress` (the progress object) as training goes; a comment every 15 s",
          params: idParams,
        },
      },
      (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
        const { runner, heartbeatMs } = need();
        const found = runner.get(req.params.id);
        if (!found) throw httpError(new JobNotFoundError(req.params.id));
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          ...(reply.getHeaders() as Record<string, string>),
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        send('job', found);
        const unsubscribe = runner.subscribe(req.params.id, (e) => send(e.type, e.type === 'job' ? e.job : e.job.progress));
        const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs ?? 15_000);
        const end = () => {
          if (!streams.delete(end)) return;
          clearInterval(heartbeat);
          unsubscribe();
          if (!res.writableEnded) res.end();
        };
        streams.add(end);
        req.raw.on('close', end);
        res.on('close', end);
        res.on('error', end);
      },
    );
  });
}
