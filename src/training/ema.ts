/** Exponential moving average of the head parameters (and BN running stats), updated per step. */
import { type HeadParams, PARAM_NAMES } from '../heads/params.js';

export class ParamsEma {
  private readonly avg: HeadParams;

  constructor(
    start: HeadParams,
    private readonly decay: number,
  ) {
    if (!(decay > 0 && decay < 1)) throw new RangeError(`ParamsEma: decay must be in (0, 1), got ${decay}`);
    this.avg = {} as HeadParams;
    for (const n of PARAM_NAMES) this.avg[n] = { dtype: 'float32', dims: [...start[n].dims], data: start[n].data.slice() };
  }

  update(p: HeadParams): void {
    const d = this.decay;
    for (const n of PARAM_NAMES) {
      const a = this.avg[n].data;
      const x = p[n].data;
      for (let i = 0; i < a.length; i++) a[i] = d * a[i] + (1 - d) * x[i];
    }
  }

  params(): HeadParams {
    const out = {} as HeadParams;
    for (const n of PARAM_NAMES) out[n] = { dtype: 'float32', dims: [...this.avg[n].dims], data: this.avg[n].data.slice() };
    return out;
  }
}
