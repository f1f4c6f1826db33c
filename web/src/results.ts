/** The scored images of an inspect session, and their CSV / JSON downloads. */
import type { Mode } from './scoring.js';

export interface Result {
  id: number;
  name: string;
  state: 'queued' | 'scoring' | 'done' | 'error';
  error?: string;
  mode?: Mode;
  model?: string;
  score?: number;
  scoreNormalized?: number;
  /** The model's own label (its threshold). */
  modelLabel?: number;
  ms?: number;
  size?: number;
  /** Object URLs of the layers' PNGs (small: the model's crop size, not the original image). */
  cropUrl?: string;
  heatmapUrl?: string;
}

/** The label under the view threshold: anomalous when the raw score is above it. */
export const flagged = (r: Result, threshold: number) => r.score !== undefined && r.score > threshold;

const csvCell = (v: string | number | undefined) => {
  const s = v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function resultsCsv(rows: readonly Result[], threshold: number): string {
  const head = 'name,score,score_normalized,model_label,view_label,view_threshold,mode,model,error';
  const lines = rows.map((r) =>
    [r.name, r.score, r.scoreNormalized, r.modelLabel, r.state === 'done' ? (flagged(r, threshold) ? 1 : 0) : undefined, threshold, r.mode, r.model, r.error]
      .map(csvCell)
      .join(','),
  );
  return `${[head, ...lines].join('\n')}\n`;
}

export function resultsJson(rows: readonly Result[], threshold: number): string {
  return `${JSON.stringify(
    {
      view_threshold: threshold,
      images: rows.map((r) => ({
        name: r.name,
        state: r.state,
        score: r.score,
        score_normalized: r.scoreNormalized,
        model_label: r.modelLabel,
        view_label: r.state === 'done' ? (flagged(r, threshold) ? 1 : 0) : undefined,
        mode: r.mode,
        model: r.model,
        ms: r.ms,
        error: r.error,
      })),
    },
    null,
    2,
  )}\n`;
}
