/**
 * How many epochs a run trains. The validated preset's epoch count was chosen on bottle, where an
 * epoch is 24 optimizer steps (188 images, batch 8; README, "Fast convergence"); on a smaller
 * training set the same epochs are fewer steps, and validation was still rising at the end (the
 * docs/studies/fast-convergence.md's 2×2-mosaic study: 12 steps an epoch). So the default also asks for a number of steps,
 * `train.minSteps`, and the epochs rise to reach it; larger sets keep `train.epochs`.
 */
import type { SimpleNetConfig } from '../model/config.js';

/** Images held out of `n` good training images for validation (as `splitValidation` holds them out). */
export function heldOutCount(n: number, fraction: number): number {
  if (fraction === 0 || n < 2) return 0;
  return Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
}

/**
 * max(`train.epochs`, ⌈`train.minSteps` / steps per epoch⌉) for `nTrain` training images (after the
 * held-out split), an epoch being ⌈nTrain / batchSize⌉ steps.
 * @throws RangeError when `nTrain` is not a positive integer.
 * @example plannedEpochs({ epochs: 6, minSteps: 192, batchSize: 8 }, 94); // 16: 12 steps an epoch
 */
export function plannedEpochs(train: Pick<SimpleNetConfig['train'], 'epochs' | 'minSteps' | 'batchSize'>, nTrain: number): number {
  if (!(Number.isInteger(nTrain) && nTrain > 0)) throw new RangeError(`plannedEpochs: nTrain must be a positive integer, got ${nTrain}`);
  const stepsPerEpoch = Math.ceil(nTrain / train.batchSize);
  return Math.max(train.epochs, Math.ceil(train.minSteps / stepsPerEpoch));
}

/** `config` with `train.epochs` planned for `nTrain` training images (what the model then records). */
export function withPlannedEpochs<C extends { train: Pick<SimpleNetConfig['train'], 'epochs' | 'minSteps' | 'batchSize'> }>(config: C, nTrain: number): C {
  const epochs = plannedEpochs(config.train, nTrain);
  return epochs === config.train.epochs ? config : { ...config, train: { ...config.train, epochs } };
}
