/**
 * A job's progress from the trainer's ProgressEvents: the current task and its step, the finished
 * epochs with their loss and validation AUROCs (kept as a bounded history for the chart), and an
 * ETA from the mean epoch time so far. Pure, so the runner and its tests share it.
 */
import type { ProgressEvent } from '../core/progress.js';
import type { EpochLog } from '../model/modelDir.js';
import { type EpochRecord, HISTORY_LIMIT, type Job } from './jobSpec.js';

const EPOCH_TASK = /^epoch (\d+)\/(\d+)$/;

function eta(job: Job): number | undefined {
  const h = job.history;
  if (h.length === 0) return undefined;
  const perEpoch = h.reduce((s, r) => s + r.seconds, 0) / h.length;
  const p = job.progress;
  // Within the next epoch, its done share counts; outside one (features, thresholds) only whole epochs.
  const current = p.task ? EPOCH_TASK.exec(p.task) : null;
  const inEpoch = current && Number(current[1]) === p.epoch + 1 && p.steps > 0 ? p.step / p.steps : 0;
  return Math.max(0, Number((perEpoch * (p.epochs - p.epoch - inEpoch)).toFixed(1)));
}

/** A spec without epochs learns the planned count from the trainer's first 'epoch i/N' task. */
function plannedFromTask(p: Job['progress']): void {
  const m = p.task ? EPOCH_TASK.exec(p.task) : null;
  if (m) p.epochs = Number(m[2]);
}

/**
 * Applies one event to `job` (in place).
 * @returns true when something worth sending changed (every event but an unchanged tick).
 */
export function applyProgress(job: Job, e: ProgressEvent, now = new Date()): boolean {
  const p = job.progress;
  switch (e.type) {
    case 'start':
      p.task = e.task;
      p.step = 0;
      p.steps = e.total;
      plannedFromTask(p);
      break;
    case 'progress':
      p.task = e.task;
      p.step = e.done;
      p.steps = e.total;
      plannedFromTask(p);
      break;
    case 'end':
      p.task = e.task;
      p.step = e.done;
      break;
    case 'info':
    case 'warning':
      p.message = e.type === 'warning' ? `warning: ${e.message}` : e.message;
      break;
    case 'epoch': {
      const r: EpochRecord = { epoch: e.epoch, loss: e.loss, p_true: e.pTrue, p_fake: e.pFake, seconds: e.seconds };
      if (e.valImageAuroc !== undefined) r.val_image_auroc = e.valImageAuroc;
      if (e.valPatchAuroc !== undefined) r.val_patch_auroc = e.valPatchAuroc;
      // A resumed run repeats no epoch, but a record from a run that died after its event and
      // before its checkpoint is replaced by the rerun's.
      job.history = [...job.history.filter((h) => h.epoch < e.epoch), r].slice(-HISTORY_LIMIT);
      p.epoch = e.epoch;
      p.epochs = e.epochs;
      p.loss = e.loss;
      if (r.val_image_auroc !== undefined) p.val_image_auroc = r.val_image_auroc;
      if (r.val_patch_auroc !== undefined) p.val_patch_auroc = r.val_patch_auroc;
      break;
    }
  }
  const remaining = eta(job);
  if (remaining === undefined) delete p.eta_s;
  else p.eta_s = remaining;
  p.updated_at = now.toISOString();
  return true;
}

/**
 * Rebuilds the history from a checkpoint's epoch log (in place): the records saved with the job
 * may lag the checkpoint (they are written at most once a second), and epochs after it are trained
 * again on resume, so the checkpoint's log is the truth up to its epoch.
 */
export function historyFromLog(job: Job, log: readonly EpochLog[]): void {
  if (log.length === 0) return;
  job.history = log
    .map((e) => {
      const r: EpochRecord = { epoch: e.epoch, loss: e.loss, p_true: e.pTrue, p_fake: e.pFake, seconds: e.seconds };
      if (e.valImageAuroc !== undefined) r.val_image_auroc = e.valImageAuroc;
      if (e.valPatchAuroc !== undefined) r.val_patch_auroc = e.valPatchAuroc;
      return r;
    })
    .slice(-HISTORY_LIMIT);
  const last = job.history[job.history.length - 1];
  job.progress.epoch = last.epoch;
  job.progress.loss = last.loss;
  const validated = [...job.history].reverse().find((r) => r.val_image_auroc !== undefined);
  if (validated) {
    job.progress.val_image_auroc = validated.val_image_auroc;
    if (validated.val_patch_auroc !== undefined) job.progress.val_patch_auroc = validated.val_patch_auroc;
  }
}
