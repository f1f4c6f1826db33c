/**
 * The score-chunk task: one model scores a list of images, and one JSON line per image, in the
 * list's order, is written atomically to `out`. An `out` already there is the finished chunk of an
 * earlier attempt: it is returned as is, never scored twice.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Detector } from '../api/detector.js';
import { type PredictLine, predictLine } from '../api/outputs.js';
import type { Reporter } from '../core/progress.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { ScoreChunkTask } from './taskSpec.js';

/** One line of a chunk file: the image's result, or why it could not be scored. */
export type ChunkLine = { path: string; ok: true; line: PredictLine } | { path: string; ok: false; error: string };

/** What a score-chunk job returns. */
export interface ScoreChunkResult {
  images: number;
  failed: number;
  /** Whether this attempt scored (false: the chunk file was already complete). */
  scored: boolean;
}

/** Reads a chunk file back, in order. */
export async function readChunk(path: string): Promise<ChunkLine[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as ChunkLine);
}

export async function runScoreChunkTask(task: ScoreChunkTask, reporter: Reporter, signal: AbortSignal): Promise<ScoreChunkResult> {
  if (existsSync(task.out)) {
    const lines = await readChunk(task.out);
    if (lines.length === task.images.length && lines.every((l, i) => l.path === task.images[i])) {
      return { images: lines.length, failed: lines.filter((l) => !l.ok).length, scored: false };
    }
    throw new Error(`${task.out}: holds the scores of other images; remove it or choose another --out`);
  }
  const detector = await Detector.load(task.model, { threshold: task.threshold, reporter });
  const lines: string[] = [];
  let failed = 0;
  const bar = reporter.bar('scoring', task.images.length);
  try {
    let i = 0;
    for await (const r of detector.scoreMany(task.images)) {
      signal.throwIfAborted();
      const path = task.images[i++];
      const line: ChunkLine = r.ok ? { path, ok: true, line: predictLine(path, r.result) } : { path, ok: false, error: r.error.message };
      if (!r.ok) failed++;
      lines.push(JSON.stringify(line));
      bar.tick();
    }
  } finally {
    await detector.close();
  }
  bar.done();
  await writeFileAtomic(task.out, `${lines.join('\n')}\n`, 'json');
  return { images: lines.length, failed, scored: true };
}
