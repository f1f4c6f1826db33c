import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { Detector } from '../api/detector.js';
import { readMetricsJson } from '../evaluation/metricsJson.js';
import { ModelInfoSchema } from './schemas.js';

/**
 * A model's details as `GET /v1/models/{name}` answers them (and `export --web` writes them for
 * the static page): backbone, preset, selected epoch, thresholds, and the folder's test metrics.
 */
export async function modelInfo(m: { name: string; dir: string; detector: Detector }): Promise<z.infer<typeof ModelInfoSchema>> {
  const i = m.detector.info;
  // A test report's metrics, when the model folder has one (written by `test --json` or `--report`).
  let testMetrics: Record<string, unknown> | undefined;
  for (const p of [join(m.dir, 'metrics.json'), join(m.dir, 'report', 'metrics.json')]) {
    if (!existsSync(p)) continue;
    testMetrics = await readMetricsJson(p).catch(() => undefined);
    if (testMetrics) break;
  }
  return ModelInfoSchema.parse({
    name: m.name,
    backbone: i.backbone,
    preset: i.preset,
    epochs: i.epochs,
    seed: i.seed,
    ...(i.selected ? { selected: i.selected } : {}),
    image_threshold: i.imageThreshold,
    pixel_threshold: i.pixelThreshold,
    threshold_source: i.thresholdSource,
    map_size: i.mapSize,
    fit: i.fit,
    tiles: [...i.tiles],
    resize: i.resize,
    created_at: i.createdAt,
    ...(testMetrics ? { test_metrics: testMetrics } : {}),
  });
}
