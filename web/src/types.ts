/** The service's answers the page reads (see src/serve/schemas.ts and the jobs contract). */
export interface ModelInfo {
  name: string;
  backbone: Record<string, unknown>;
  preset: string;
  epochs: number;
  seed: number;
  selected?: { by: string; epoch: number; score?: number };
  image_threshold: number;
  pixel_threshold: number;
  threshold_source: string;
  map_size: number;
  created_at: string;
  test_metrics?: Record<string, unknown>;
}

export interface EpochLog {
  epoch: number;
  loss: number;
  pTrue: number;
  pFake: number;
  seconds: number;
  valImageAuroc?: number;
  valPatchAuroc?: number;
  event?: string;
}

export interface ServerImage {
  path: string;
  score: number;
  score_normalized: number;
  label: number;
  threshold: number;
  heatmap_png?: string;
  crop_png?: string;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export interface JobProgress {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss?: number;
  eta_s?: number;
  [k: string]: unknown;
}

export interface Job {
  id: string;
  spec: {
    kind: 'train';
    name: string;
    dataset: { format: string; path: string; category?: string };
    backbone: string;
    epochs: number;
    preset: string;
    seed: number;
  };
  state: JobState;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  progress: JobProgress;
  history: Record<string, number | undefined>[];
  model?: string;
}

export interface DatasetEntry {
  path: string;
  format: string;
  categories?: string[];
  goodImages: number;
}
