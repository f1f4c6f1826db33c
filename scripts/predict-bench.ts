/**
 * predict throughput (images/s: decode + the one scoring graph, as `simplenet predict` runs) with
 * the head folded and unfolded, per batch size. Usage:
 *   node dist/scripts/predict-bench.js --model <model-dir> <images...> [--n 10] [--batch 1,4,8]
 *   node dist/scripts/predict-bench.js --random-wrn50 <images...>   (random WideResNet-50-2 + head)
 * Reported, not asserted: the figures depend on the machine and its load.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESNET_ARCHS } from '../src/backbones/resnet-arch.js';
import { expectedTensors } from '../src/backbones/resnet-arch.js';
import { buildResNet, RESNET_INPUT } from '../src/backbones/resnet.js';
import { initHeadParams } from '../src/heads/params.js';
import { Rng } from '../src/core/rng.js';
import { defaultConfig } from '../src/model/config.js';
import { loadModel, saveModel, type SimpleNetModel } from '../src/model/modelDir.js';
import { f32, type HostTensor } from '../src/onnx/tensor.js';
import { expandInputs } from '../src/predict/inputs.js';
import { predictImages } from '../src/predict/predictImages.js';
import { Scorer } from '../src/scoring/scorer.js';

async function randomWrn50(): Promise<SimpleNetModel> {
  const arch = RESNET_ARCHS.wide_resnet50_2;
  const rng = new Rng(0);
  const state = new Map<string, HostTensor>();
  for (const [name, dims] of expectedTensors(arch, 3)) {
    const t = f32(dims);
    if (dims.length === 4) {
      const scale = Math.sqrt(2 / (dims[1] * dims[2] * dims[3]));
      for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal() * scale;
    } else if (name.endsWith('running_var') || name.endsWith('.weight')) t.data.fill(1);
    state.set(name, t);
  }
  const built = buildResNet(state, { arch, source: 'random', layers: ['layer2', 'layer3'], name: 'wide_resnet50_2' });
  const config = defaultConfig();
  const dir = join(mkdtempSync(join(tmpdir(), 'simplenet-bench-')), 'model');
  await saveModel(dir, {
    config,
    backbone: {
      identity: { kind: 'builtin', name: 'wide_resnet50_2', weightsSha256: 'random' },
      inputName: RESNET_INPUT,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      layers: built.layers,
      onnx: built.onnx,
    },
    layerShapes: [
      { channels: 512, height: 36, width: 36 },
      { channels: 1024, height: 18, width: 18 },
    ],
    params: initHeadParams({ featureDim: config.embed.targetDim, hiddenDim: config.head.hiddenDim }, rng),
    training: { dataset: { format: 'none', root: '', category: '', nTrain: 0 }, epochs: 0, seed: 0, steps: 0, seconds: 0, featureSeconds: 0, log: [] },
    scoring: { imageThreshold: 0, min: 0, max: 1, thresholdSource: 'none' },
  });
  return loadModel(dir);
}

const args = process.argv.slice(2);
const take = (flag: string) => {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const [, v] = args.splice(i, 2);
  return v;
};
const random = args.includes('--random-wrn50');
if (random) args.splice(args.indexOf('--random-wrn50'), 1);
const modelDir = take('--model');
const n = Number(take('--n') ?? 10);
const batches = (take('--batch') ?? '1').split(',').map(Number);
if (batches.some((b) => !Number.isInteger(b) || b < 1)) throw new Error('--batch must be a comma-separated list of positive integers');
const model = random ? await randomWrn50() : await loadModel(modelDir!);
const inputs = expandInputs(args).slice(0, n);
for (const fold of [true, false]) {
  const t0 = Date.now();
  const scorer = await Scorer.fromModel(model, { fold });
  const build = (Date.now() - t0) / 1000;
  for (const batch of batches) {
    // One untimed group first: onnxruntime plans memory for a new input shape on its first run.
    for await (const r of predictImages(scorer, inputs.slice(0, batch), { batch })) if (!r.ok) throw r.error;
    let count = 0;
    const start = Date.now();
    for await (const r of predictImages(scorer, inputs, { batch })) {
      if (!r.ok) throw r.error;
      count++;
    }
    const seconds = (Date.now() - start) / 1000;
    console.log(
      JSON.stringify({
        backbone: model.backbone.identity.kind === 'builtin' ? model.backbone.identity.name : 'onnx manifest',
        fold,
        batch,
        images: count,
        seconds,
        imagesPerSecond: Number((count / seconds).toFixed(3)),
        sessionSeconds: build,
      }),
    );
  }
  await scorer.release();
}
