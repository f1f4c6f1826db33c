/**
 * Static int8 backbones against float32: backbone-only latency at batch 1 and each feature tap's
 * relative error ‖int8 − fp32‖ / ‖fp32‖ on held-out images, for each mixed-precision choice (the
 * error-budget rule at several budgets, the older own-error rule) and 7- and 8-bit weights, plus the
 * op counts of onnxruntime's optimised int8 graph (what really runs int8). Usage:
 *   node dist/scripts/quant-bench.js [--backbone wrn50|mobilenet|both] [--calib 16] [--held-out 4] [--runs 10]
 *     [--method minmax|percentile|mse] [--budgets inf,0.05,0.03,0.02,0.015,0.01]
 * wrn50 is a random-weight WideResNet-50-2 (layers layer2, layer3; as predict-bench.ts builds it),
 * mobilenet the manifest backbones/mobilenet_v2.json. Both are calibrated on MVTec AD bottle
 * train/good images preprocessed by the project's preprocessing graph (crop 288). Reported, not
 * asserted: the figures depend on the machine and its load.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadManifestBackbone } from '../src/backbones/manifest.js';
import { CALIBRATION_METHODS, type CalibrationMethod, collectRanges, measureQuantizationError } from '../src/onnx/calibrate.js';
import { preparedGraph } from '../src/backbones/quantizeBackbone.js';
import { specializedBackbone } from '../src/backbones/specialize.js';
import { encodeModel } from '../src/onnx/model.js';
import { quantizedWeights, quantizeModel } from '../src/onnx/quantize.js';
import { chooseFloatValues, measureSensitivity, predictedError } from '../src/onnx/sensitivity.js';
import { randomWrn50Backbone } from './randomWrn50.js';
import type { Backbone } from '../src/backbones/types.js';
import { buildPreprocessModel } from '../src/embedding/featureExtractor.js';
import { decodeImage } from '../src/images/decode.js';
import { decodeModel } from '../src/onnx/decode.js';
import { type OrtTensor, ortTensor, Session } from '../src/onnx/session.js';
import * as ort from 'onnxruntime-node';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const which = flag('--backbone', 'both');
const nCalib = Number(flag('--calib', '16'));
const nHeld = Number(flag('--held-out', '4'));
const runs = Number(flag('--runs', '10'));
const method = flag('--method', 'minmax') as CalibrationMethod;
if (!CALIBRATION_METHODS.includes(method)) throw new Error(`--method: expected one of ${CALIBRATION_METHODS.join(', ')}, got '${method}'`);
const budgets = flag('--budgets', 'inf,0.05,0.03,0.02,0.015,0.01')
  .split(',')
  .map((b) => (b === 'inf' ? Infinity : Number(b)));
const DATA = resolve(process.env.SIMPLENET_MVTEC_ROOT ?? '/work/shared/data/mvtec_ad', 'bottle/train/good');
const IMAGE = { resize: 329, crop: 288 };

async function pixels(backbone: Backbone, files: string[]): Promise<OrtTensor[]> {
  const prep = await Session.create(buildPreprocessModel(backbone, IMAGE), 'preprocessing');
  const out: OrtTensor[] = [];
  for (const f of files) {
    const im = await decodeImage(f);
    out.push((await prep.run({ image: ortTensor('uint8', [1, im.height, im.width, 3], im.data) })).pixels);
  }
  await prep.release();
  return out;
}

async function latencyMs(session: Session, input: string, x: OrtTensor, layers: string[]): Promise<number> {
  for (let i = 0; i < 2; i++) await session.run({ [input]: x }, layers);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run({ [input]: x }, layers);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

/** Op counts of the graph onnxruntime runs after its optimisations ('all'). */
async function optimizedOps(onnx: Uint8Array, label: string): Promise<Record<string, number>> {
  const path = join(tmpdir(), `quant-bench-${label}-${process.pid}.onnx`);
  const s = await ort.InferenceSession.create(onnx, { graphOptimizationLevel: 'all', optimizedModelFilePath: path });
  await s.release();
  const counts: Record<string, number> = {};
  for (const n of decodeModel(readFileSync(path)).graph.nodes) counts[n.opType] = (counts[n.opType] ?? 0) + 1;
  rmSync(path, { force: true });
  return counts;
}

function relError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

async function bench(name: string, float: Backbone): Promise<void> {
  const files = readdirSync(DATA)
    .filter((f) => f.endsWith('.png'))
    .sort();
  const calib = await pixels(
    float,
    files.slice(0, nCalib).map((f) => join(DATA, f)),
  );
  const held = await pixels(
    float,
    files.slice(-nHeld).map((f) => join(DATA, f)),
  );
  // The fp32 baseline is the graph the scoring graph inlines: pruned to the taps and specialised
  // to the crop (backbones/specialize.ts); each int8 graph is specialised the same way. The whole
  // float file, which also computes the layers after the taps, is timed too, but speed-ups are
  // against the specialised graph.
  const prepared = preparedGraph(float);
  const whole = await Session.create(float.onnx, `${name} fp32 (whole file)`);
  const wholeMs = await latencyMs(whole, float.inputName, held[0], float.layers);
  await whole.release();
  const fp32 = await Session.create(await specializedBackbone(float, IMAGE.crop), `${name} fp32`);
  const reference = [];
  for (const x of held) reference.push(await fp32.run({ [float.inputName]: x }, float.layers));
  const fp32Ms = await latencyMs(fp32, float.inputName, held[0], float.layers);
  await fp32.release();
  console.log(JSON.stringify({ backbone: name, precision: 'fp32', graph: 'whole file', batch: 1, size: IMAGE.crop, medianMs: Number(wholeMs.toFixed(1)) }));
  console.log(
    JSON.stringify({
      backbone: name,
      precision: 'fp32',
      graph: 'pruned to the taps, specialised to the crop',
      batch: 1,
      size: IMAGE.crop,
      medianMs: Number(fp32Ms.toFixed(1)),
    }),
  );
  // Ranges and each value's effect on the taps are measured once; every variant is the same
  // quantizer with a different choice of values kept float (budget rule) or weight width.
  const feeds = calib.map((x) => ({ [float.inputName]: x }));
  const t0 = performance.now();
  const ranges = await collectRanges(prepared, feeds, { method });
  const sensitivity = await measureSensitivity(prepared, ranges, feeds.slice(0, 8));
  const ownErrors = await measureQuantizationError(prepared, ranges, feeds);
  const measureSeconds = (performance.now() - t0) / 1000;
  const variants: { label: string; weightBits: 7 | 8; float: string[] }[] = [
    ...budgets.map((budget) => ({
      label: `budget ${budget}`,
      weightBits: 7 as const,
      float: chooseFloatValues(sensitivity, budget),
    })),
    { label: 'own error > 1 % (older rule)', weightBits: 7, float: [...ownErrors].filter(([, e]) => e > 0.01).map(([n]) => n) },
    { label: 'budget Infinity', weightBits: 8, float: [] },
  ];
  for (const { label, weightBits, float: keep } of variants) {
    const int8Bytes = await specializedBackbone({ ...float, onnx: encodeModel(quantizeModel(prepared, ranges, { weightBits, float: keep })) }, IMAGE.crop);
    const int8 = await Session.create(int8Bytes, `${name} int8`);
    const errors: Record<string, number[]> = Object.fromEntries(float.layers.map((l) => [l, []]));
    for (let i = 0; i < held.length; i++) {
      const out = await int8.run({ [float.inputName]: held[i] }, float.layers);
      for (const l of float.layers) errors[l].push(relError(out[l].data as Float32Array, reference[i][l].data as Float32Array));
    }
    const ms = await latencyMs(int8, float.inputName, held[0], float.layers);
    await int8.release();
    const meanErr = Object.fromEntries(Object.entries(errors).map(([l, e]) => [l, Number((e.reduce((a, b) => a + b, 0) / e.length).toFixed(4))]));
    const weights = quantizedWeights(prepared, keep);
    console.log(
      JSON.stringify({
        backbone: name,
        precision: 'int8',
        rule: label,
        calibration: method,
        weightBits,
        weights: weights.all.length,
        gridWeights: weights.onGrid.length,
        floatTensors: keep.length,
        tensors: sensitivity.size,
        predictedError: Number(predictedError(sensitivity, keep).toFixed(4)),
        batch: 1,
        size: IMAGE.crop,
        medianMs: Number(ms.toFixed(1)),
        speedup: Number((fp32Ms / ms).toFixed(2)),
        relErrorMean: meanErr,
        calibrationImages: calib.length,
        heldOutImages: held.length,
        measureSeconds: Number(measureSeconds.toFixed(1)),
        bytes: { fp32: float.onnx.length, int8: int8Bytes.length },
        optimizedOps: await optimizedOps(int8Bytes, `${name}-w${weightBits}-${keep.length}`),
      }),
    );
  }
}

if (which === 'wrn50' || which === 'both') await bench('wrn50-random', randomWrn50Backbone());
if (which === 'mobilenet' || which === 'both') await bench('mobilenet_v2', await loadManifestBackbone(resolve('backbones/mobilenet_v2.json')));
