/**
 * What a benchmark run would have given under three rules, from one training run's per-epoch
 * records: the final epoch; the epoch best on synthetic-defect validation (no test labels); and the
 * oracle, the epoch best on the TEST split (image AUROC, then pixel AUROC), which is what the
 * official code reports. The oracle exists only to show the gap; it never builds a model.
 */
import type { EpochLog } from '../model/modelDir.js';
import type { MonitorEntry } from '../training/trainToDir.js';
import type { BenchmarkMetric } from '../evaluation/metricSpecs.js';

/** The threshold-free metrics an epoch is judged by (its threshold is calibrated only for the saved model). */
type EpochMetric = Exclude<BenchmarkMetric, 'image_recall_at_threshold' | 'image_fpr_at_threshold'>;

export interface EpochResult {
  epoch: number;
  metrics: Record<EpochMetric, number | null>;
}

export interface SelectionResults {
  final: EpochResult;
  validation?: EpochResult;
  oracle: EpochResult;
  /**
   * Spearman rank correlation, over the monitored epochs that were validated, between the
   * validation criterion (image + patch AUROC) and the test's (image + pixel AUROC): whether
   * validation ranks epochs the way the test would. null with fewer than 3 such epochs or no spread.
   */
  rankAgreement: number | null;
}

/** Average ranks (ties share the mean of their positions), 1-based. */
function ranks(v: number[]): number[] {
  const order = v.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(v.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman's ρ: Pearson's correlation of the average ranks (scipy.stats.spearmanr's definition). */
export function spearman(a: number[], b: number[]): number | null {
  if (a.length !== b.length) throw new RangeError(`spearman: lengths differ (${a.length} vs ${b.length})`);
  if (a.length < 3) return null;
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (x: number[]) => x.reduce((s, y) => s + y, 0) / x.length;
  const ma = mean(ra);
  const mb = mean(rb);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) ** 2;
    sbb += (rb[i] - mb) ** 2;
  }
  return saa === 0 || sbb === 0 ? null : sab / Math.sqrt(saa * sbb);
}

/**
 * Time to quality: the first epoch whose synthetic-defect validation patch AUROC reached `target`,
 * and the training seconds spent until then (the epochs' wall time, features excluded); null
 * when it never did. Needs no test data.
 */
export function timeToQuality(log: EpochLog[], target = 0.9): { epoch: number; seconds: number } | null {
  let seconds = 0;
  for (const e of log) {
    seconds += e.seconds;
    if (e.valPatchAuroc !== undefined && e.valPatchAuroc >= target) return { epoch: e.epoch, seconds };
  }
  return null;
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
    // A patch AUROC that could not be computed (NaN: no defective patch) counts as 0, not as a poison.
    const patch = e.valPatchAuroc === undefined || Number.isNaN(e.valPatchAuroc) ? 0 : e.valPatchAuroc;
    const v = e.valImageAuroc + patch;
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
  const paired = log.filter((e) => e.valImageAuroc !== undefined && at.has(e.epoch));
  const testKey = (e: EpochLog) => {
    const m = at.get(e.epoch)?.metrics;
    return (m?.image_auroc ?? 0) + (m?.pixel_auroc ?? 0);
  };
  const rankAgreement = spearman(
    paired.map((e) => (e.valImageAuroc ?? 0) + (e.valPatchAuroc ?? 0)),
    paired.map(testKey),
  );
  return { final: pick(last), ...(validation ? { validation: pick(validation) } : {}), oracle: pick(oracle), rankAgreement };
}
