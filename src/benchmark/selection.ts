/**
 * What a benchmark run would have given under three rules, from one training run's per-epoch
 * records: the final epoch; the epoch best on synthetic-defect validation (no test labels); and the
 * oracle, the epoch best on the TEST split (image AUROC, then pixel AUROC), which is what the
 * official code reports. The oracle exists only to show the gap; it never builds a model.
 */
import type { EpochLog } from '../model/modelDir.js';
import type { MonitorEntry } from '../training/trainToDir.js';
import type { BenchmarkMetric } from '../evaluation/metricSpecs.js';

export interface EpochResult {
  epoch: number;
  metrics: Record<BenchmarkMetric, number | null>;
}

export interface SelectionResults {
  final: EpochResult;
  validation?: EpochResult;
  oracle: EpochResult;
}

const pick = (m: MonitorEntry): EpochResult => ({
  epoch: m.epoch,
  metrics: {
    image_auroc: m.metrics.image_auroc,
    pixel_auroc: m.metrics.pixel_auroc,
    pixel_aupro: m.metrics.pixel_aupro,
    image_f1_max: m.metrics.image_f1_max,
  },
});

/** `monitor` must include the last epoch; validation counts only at monitored epochs. */
export function selectionResults(log: EpochLog[], monitor: MonitorEntry[]): SelectionResults {
  if (monitor.length === 0) throw new RangeError('selectionResults: no monitored epochs');
  const last = monitor.reduce((a, b) => (b.epoch > a.epoch ? b : a));
  const at = new Map(monitor.map((m) => [m.epoch, m]));
  let validation: MonitorEntry | undefined;
  let bestVal = -Infinity;
  for (const e of log) {
    if (e.valImageAuroc === undefined || !at.has(e.epoch)) continue;
    const v = e.valImageAuroc + (e.valPatchAuroc ?? 0);
    if (v > bestVal) {
      bestVal = v;
      validation = at.get(e.epoch);
    }
  }
  const key = (m: MonitorEntry) => [m.metrics.image_auroc ?? -1, m.metrics.pixel_auroc ?? -1];
  let oracle = monitor[0];
  for (const m of monitor) {
    const [a, b] = key(m);
    const [c, d] = key(oracle);
    if (a > c || (a === c && b > d)) oracle = m;
  }
  return { final: pick(last), ...(validation ? { validation: pick(validation) } : {}), oracle: pick(oracle) };
}
