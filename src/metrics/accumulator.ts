import type { ThresholdVisitor } from './sweep.js';

/** A metric computed from one threshold sweep: several can share a single sort (binaryMetrics). */
export interface Accumulator<T> {
  visit: ThresholdVisitor;
  result(): T;
}
