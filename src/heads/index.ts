/** The trainable SimpleNet heads: adaptor + discriminator, their training step and scoring head. */
export { DEFAULT_HEAD_CONFIG, type HeadConfig, headConfig, type HeadLoss } from './config.js';
export { Rng } from '../core/rng.js';
export {
  checkHeadParams,
  type HeadParams,
  headDims,
  initHeadParams,
  PARAM_NAMES,
  type ParamName,
  paramShapes,
  TRAINABLE,
} from './params.js';
export { type HeadOptimizerState, type StepResult, TrainStep, type TrainStepOptions } from './trainStep.js';
export { addPatchScores, type FoldedHead, foldHead, type ScoreHeadOptions } from './scoreHead.js';
