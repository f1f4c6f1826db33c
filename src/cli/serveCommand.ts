import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { DataRoot } from '../jobs/dataRoot.js';
import { createJobRunner, type JobRunner } from '../jobs/jobRunner.js';
import '../jobs/localRunner.js';
import { checkRedis } from '../queue/connect.js';
import { DEFAULT_QUEUE } from '../queue/queueOptions.js';
import '../queue/redisJobRunner.js';
import { ServiceMetrics } from '../serve/metrics.js';
import { ModelSet, modelSources, serveSession } from '../serve/modelSet.js';
import { isLoopback } from '../serve/security.js';
import { buildServer } from '../serve/server.js';
import type { Precision } from '../scoring/precision.js';
import { intOption, PRECISION_HELP, precisionOption } from './options.js';

interface ServeFlags {
  model: string[];
  precision: Precision;
  modelsDir: string[];
  host: string;
  port: number;
  token?: string;
  insecure?: boolean;
  maxBatch: number;
  workers: number;
  threads?: number;
  maxWaitMs: number;
  queue: number;
  bodyLimit: number;
  timeout: number;
  cors?: string;
  quiet?: boolean;
  dataRoot?: string;
  jobsDir?: string;
  trainConfig?: string;
  redis?: string;
  redisQueue: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function bytesOption(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`--body-limit must be a size like 20mb, got '${v}'`);
  const unit = { b: 1, kb: 2 ** 10, mb: 2 ** 20, gb: 2 ** 30 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Math.round(Number(m[1]) * unit);
}

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('an HTTP inspection service and its web app at /: POST images, get scores, labels and heatmaps (OpenAPI at /openapi.json, explorer at /docs)')
    .option('--model <[name=]dir>', 'a model folder to serve, named after its folder unless name= is given (repeatable)', collect, [])
    .option('--models-dir <dir>', 'serve every model folder inside <dir>, named after its folder (repeatable)', collect, [])
    .option('--host <address>', 'address to listen on; anything but loopback needs --token (or --insecure)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', intOption('--port', 0), 8080)
    .option('--token <secret>', 'bearer token required on every route but /healthz and /readyz (default: $SIMPLENET_TOKEN)')
    .option('--insecure', 'allow a non-loopback --host without a token')
    .option('--precision <p>', PRECISION_HELP, precisionOption, 'fp32')
    .option(
      '--workers <n>',
      "threads that run each model's scoring graph, each with its own copy of the model (0: the main thread)",
      intOption('--workers', 0),
      2,
    )
    .option('--threads <n>', 'onnxruntime threads per worker (default: the cores divided among the workers)', intOption('--threads', 1))
    .option('--max-batch <n>', 'images per run of the scoring graph (1: no batching, fastest on a CPU; see README)', intOption('--max-batch', 1), 1)
    .option('--max-wait-ms <ms>', 'how long an idle model waits for more images to batch', intOption('--max-wait-ms', 0), 10)
    .option('--queue <n>', 'images allowed to wait per model; more get 503 with Retry-After', intOption('--queue', 1), 64)
    .option('--body-limit <size>', 'largest request body, e.g. 20mb', bytesOption, 20 * 2 ** 20)
    .option('--timeout <ms>', 'answer 504 when a request is not scored within this time', intOption('--timeout', 1), 30_000)
    .option('--cors <origin>', 'allow browser calls from this origin (off by default)')
    .option('--quiet', 'no request log')
    .option(
      '--data-root <dir>',
      'turn on training jobs (POST /v1/jobs): their data may only come from under <dir>; models are written into the first --models-dir',
    )
    .option('--jobs-dir <dir>', 'where training jobs keep their state and checkpoints (default: <models-dir>/.simplenet-jobs)')
    .option('--train-config <file>', 'a JSON or YAML config applied to every training job')
    .option(
      '--redis <url>',
      'send training jobs to this Redis queue (run `simplenet worker` on the training machines); --data-root, --models-dir and --jobs-dir must be on a filesystem they share',
    )
    .option('--redis-queue <name>', 'Redis queue name (with --redis; --queue is the scoring queue length)', DEFAULT_QUEUE)
    .action(async (flags: ServeFlags) => {
      const token = flags.token ?? process.env.SIMPLENET_TOKEN;
      if (!isLoopback(flags.host) && !token && !flags.insecure) {
        throw new Error(
          `--host ${flags.host} is reachable from other machines: give --token <secret> (or SIMPLENET_TOKEN), or --insecure to serve without one`,
        );
      }
      // Training writes each finished model into the first --models-dir, so it may start empty.
      const training = flags.dataRoot !== undefined;
      if (training && flags.modelsDir.length === 0) throw new Error('--data-root needs --models-dir <dir>: trained models are written there');
      if (!training && (flags.jobsDir || flags.trainConfig || flags.redis)) throw new Error('--jobs-dir, --train-config and --redis need --data-root <dir>');
      // No silent fallback to local training: an unreachable queue stops the server before it starts.
      if (flags.redis) await checkRedis(flags.redis);
      const dataRoot = training ? new DataRoot(flags.dataRoot as string) : undefined;
      if (training) mkdirSync(flags.modelsDir[0], { recursive: true });
      const sources = () => modelSources(flags.model, flags.modelsDir, training);
      sources();
      let metrics: ServiceMetrics | undefined;
      const models = new ModelSet(
        sources,
        {
          maxBatch: flags.maxBatch,
          maxWaitMs: flags.maxWaitMs,
          queueLimit: flags.queue,
          onBatch: (model, size, seconds) => metrics?.batch(model, size, seconds),
        },
        flags.precision,
        serveSession(flags.workers, flags.threads),
      );
      metrics = new ServiceMetrics(() => models.depth());
      let runner: JobRunner | undefined;
      if (dataRoot) {
        // Absolute: with --redis these paths travel to workers on other machines.
        const modelsDir = resolve(flags.modelsDir[0]);
        runner = createJobRunner(flags.redis ? 'redis' : 'local', {
          jobsDir: resolve(flags.jobsDir ?? join(modelsDir, '.simplenet-jobs')),
          dataRoot,
          modelsDir,
          trainConfig: flags.trainConfig && resolve(flags.trainConfig),
          ...(flags.redis ? { redis: { url: flags.redis, queue: flags.redisQueue } } : {}),
          hasModel: (name) => models.names().includes(name),
          onModel: (name, dir) => models.add({ name, dir }),
          log: (m) => process.stderr.write(`simplenet: ${m}\n`),
        });
      }
      let ready = false;
      let reloading: Promise<string[]> | undefined;
      const reload = () => {
        reloading ??= models.load().finally(() => {
          reloading = undefined;
        });
        return reloading;
      };
      const app = await buildServer({
        models,
        metrics,
        token,
        bodyLimit: flags.bodyLimit,
        timeoutMs: flags.timeout,
        cors: flags.cors,
        logger: flags.quiet ? false : { level: 'info', redact: ['req.headers.authorization'] },
        ready: () => ready,
        reload,
        ...(runner && dataRoot ? { jobs: { runner, dataRoot } } : {}),
      });
      await models.load();
      ready = true;
      const address = await app.listen({ host: flags.host, port: flags.port });
      process.stderr.write(`simplenet: serving ${models.names().join(', ') || '(no models yet)'} at ${address} (web app: ${address}/, API explorer: ${address}/docs)
`);

      // Graceful stop: no new connections, requests in flight answered, then exit 0.
      process.removeAllListeners('SIGTERM');
      process.removeAllListeners('SIGINT');
      const stop = async (signal: string) => {
        process.stderr.write(`simplenet: ${signal}: finishing requests in flight, then stopping\n`);
        // Keep-alive connections would hold the close open: drop each as soon as its answer is out.
        const idle = setInterval(() => app.server.closeIdleConnections(), 50);
        // A training child is stopped first; its job stays `interrupted`, resumable after a restart.
        await runner?.close();
        await app.close();
        clearInterval(idle);
        await models.close();
        process.exit(0);
      };
      process.once('SIGTERM', () => void stop('SIGTERM'));
      process.once('SIGINT', () => void stop('SIGINT'));
      process.on('SIGHUP', () => {
        reload().then(
          (names) => app.log.info({ models: names }, 'models reloaded'),
          (e: Error) => app.log.error({ err: e }, 'reload failed; the old models stay'),
        );
      });
    });
}
