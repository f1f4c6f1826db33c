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
  fit: string;
  tiles: [number, number];
  resize: number;
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
  valPatchAupro?: number;
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

/** A job's progress (src/jobs/jobSpec.ts): `epoch` counts finished epochs; `step` of `steps` is within `task`. */
export interface JobProgress {
  task?: string;
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss?: number;
  val_image_auroc?: number | null;
  val_patch_auroc?: number | null;
  eta_s?: number;
  message?: string;
  updated_at?: string;
}

/** One finished epoch of a job; a validation AUROC is null where it could not be computed. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  p_true: number;
  p_fake: number;
  seconds: number;
  val_image_auroc?: number | null;
  val_patch_auroc?: number | null;
}

export interface Job {
  id: string;
  spec: {
    kind: 'train';
    name: string;
    dataset: { format: string; path: string; category?: string };
    replace?: boolean;
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
  history: EpochRecord[];
  model?: string;
  resumes?: number;
}

export interface DatasetEntry {
  path: string;
  format: string;
  categories?: string[];
  goodImages: number;
}
