/**
 * Scoring in this browser: the exported scoring graph (fetched once per model) on onnxruntime-web's
 * wasm backend, SIMD, with threads when the page is cross-origin isolated. The runtime is loaded
 * only when this mode is first used, from this site's own copy of its files.
 */
import type { InferenceSession } from 'onnxruntime-web';
import { exactFitProblem, type ImageFit } from '../../src/images/fit.js';
import { request } from './api.js';
import { decodeRgb } from './decodeRgb.js';
import { layerPngs } from './layers.js';
import type { Scored } from './scoring.js';
import type { ModelInfo } from './types.js';

declare const __ORT_PATH__: string;

type Ort = typeof import('onnxruntime-web');
let ortReady: Promise<Ort> | undefined;
const sessions = new Map<string, Promise<InferenceSession>>();

/** Threads: `?threads=N` in the page's address (for measuring), else up to 4 when isolated, else 1. */
export function wasmThreads(): number {
  const asked = Number(new URLSearchParams(location.search).get('threads'));
  if (Number.isInteger(asked) && asked > 0) return crossOriginIsolated ? asked : 1;
  return crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
}

function loadOrt(): Promise<Ort> {
  ortReady ??= import('onnxruntime-web/wasm').then((ort) => {
    ort.env.wasm.wasmPaths = new URL(__ORT_PATH__, document.baseURI).href;
    ort.env.wasm.numThreads = wasmThreads();
    return ort as unknown as Ort;
  });
  return ortReady;
}

async function session(url: string): Promise<InferenceSession> {
  let s = sessions.get(url);
  if (!s) {
    s = (async () => {
      const ort = await loadOrt();
      const bytes = new Uint8Array(await (await request(url)).arrayBuffer());
      const created = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
      if (!created.outputNames.includes('image_crop')) throw new Error(`${url}: the scoring graph has no image_crop output; re-export it`);
      return created;
    })();
    sessions.set(url, s);
    s.catch(() => sessions.delete(url));
  }
  return s;
}

/** Warms the session (fetch, compile) so the first image's time is the graph's alone. */
export async function prepareBrowser(url: string): Promise<void> {
  await session(url);
}

/**
 * Scores one image with the model's exported graph. `model` gives the geometry: an image its fit
 * would shrink beyond exact resampling is refused with the server's own message (images/fit.ts).
 */
export async function scoreInBrowser(url: string, file: File, model: Pick<ModelInfo, 'fit' | 'tiles' | 'map_size' | 'resize'>): Promise<Scored> {
  const t0 = performance.now();
  const rgb = await decodeRgb(file);
  const geometry = { resize: model.resize, crop: model.map_size, fit: model.fit as ImageFit, tiles: model.tiles };
  const problem = exactFitProblem(rgb.width, rgb.height, geometry, file.name);
  if (problem) throw new Error(problem);
  const s = await session(url);
  const ort = await loadOrt();
  const out = await s.run({ image: new ort.Tensor('uint8', rgb.data, [1, rgb.height, rgb.width, 3]) });
  const ms = performance.now() - t0;
  const map = out.anomaly_map_normalized;
  const size = map.dims[map.dims.length - 1];
  const layers = await layerPngs(out.image_crop.data as Uint8Array, map.data as Float32Array, size);
  return {
    score: (out.score.data as Float32Array)[0],
    scoreNormalized: (out.score_normalized.data as Float32Array)[0],
    label: Number((out.label.data as BigInt64Array)[0]),
    ...layers,
    size,
    ms,
  };
}
