/**
 * `predict --redis`: the images cut into chunks, one score-chunk job each, every chunk's JSON lines
 * written under `<out>/chunks/`; then the rows printed in the inputs' order, exactly as a local
 * `predict` prints them. Heatmaps are not drawn in this mode (they are a local `--out` feature).
 */
import { join, resolve } from 'node:path';
import type { PredictLine } from '../api/outputs.js';
import type { ChunkLine, ScoreChunkResult } from '../jobs/scoreChunkTask.js';
import { readChunk } from '../jobs/scoreChunkTask.js';
import type { Task } from '../jobs/taskSpec.js';
import type { InputImage } from '../predict/inputs.js';
import { runQueued } from './runQueued.js';

export interface QueuedPredictOptions {
  redis: string;
  queue: string;
  model: string;
  inputs: readonly InputImage[];
  out: string;
  chunk: number;
  threshold?: number;
  quiet?: boolean;
}

/** One image's outcome, in input order, with the path as the user gave it. */
export type QueuedPrediction = { path: string; ok: true; line: PredictLine } | { path: string; ok: false; error: string };

export async function queuedPredict(o: QueuedPredictOptions): Promise<QueuedPrediction[]> {
  const out = resolve(o.out);
  const chunks: InputImage[][] = [];
  for (let i = 0; i < o.inputs.length; i += o.chunk) chunks.push(o.inputs.slice(i, i + o.chunk));
  const tasks: Task[] = chunks.map((c, i) => ({
    kind: 'score-chunk',
    model: resolve(o.model),
    images: c.map((x) => resolve(x.path)),
    out: join(out, 'chunks', `chunk-${String(i).padStart(5, '0')}.jsonl`),
    ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
  }));
  (await runQueued({ url: o.redis, queue: o.queue, quiet: o.quiet }, tasks)) as ScoreChunkResult[];
  const all: QueuedPrediction[] = [];
  for (const [i, t] of tasks.entries()) {
    if (t.kind !== 'score-chunk') continue;
    const lines: ChunkLine[] = await readChunk(t.out);
    for (const [j, l] of lines.entries()) {
      const path = chunks[i][j].path;
      // Workers saw absolute paths; the user sees the paths as given, as in a local run.
      all.push(l.ok ? { path, ok: true, line: { ...l.line, path } } : { path, ok: false, error: l.error.split(l.path).join(path) });
    }
  }
  return all;
}
