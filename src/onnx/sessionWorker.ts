/**
 * One worker thread of a `WorkerSessions` pool (workerSessions.ts): it opens its own onnxruntime
 * session from the bytes it is given and runs whatever the pool sends, one run at a time.
 * onnxruntime-node's `run` occupies its calling thread until the graph is done (its binding is
 * synchronous), so only a run on another thread leaves the main event loop free.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { WireRequest, WireResponse, WireTensor, WorkerInit } from './workerSessions.js';

const init = workerData as WorkerInit;
const port = parentPort!;

function toWire(t: ort.Tensor): WireTensor {
  return { type: t.type, dims: [...t.dims], data: t.data as WireTensor['data'] };
}

async function main(): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session =
      typeof init.model === 'string'
        ? await ort.InferenceSession.create(init.model, init.options)
        : await ort.InferenceSession.create(init.model, init.options);
  } catch (e) {
    port.postMessage({ ready: false, error: (e as Error).message });
    return;
  }
  port.postMessage({ ready: true, inputNames: session.inputNames, outputNames: session.outputNames });
  port.on('message', async (req: WireRequest) => {
    if (req.close) {
      await session.release();
      port.close();
      return;
    }
    let res: WireResponse;
    const transfer: ArrayBuffer[] = [];
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const [k, t] of Object.entries(req.feeds)) feeds[k] = new ort.Tensor(t.type as ort.Tensor.Type, t.data as never, t.dims);
      const out = req.fetches ? await session.run(feeds, req.fetches) : await session.run(feeds);
      const outputs: Record<string, WireTensor> = {};
      for (const [k, v] of Object.entries(out)) {
        outputs[k] = toWire(v as ort.Tensor);
        const buf = outputs[k].data.buffer as ArrayBuffer;
        // Outputs are fresh buffers owned by this thread: hand them over instead of copying.
        if (!transfer.includes(buf)) transfer.push(buf);
      }
      res = { id: req.id, outputs };
    } catch (e) {
      res = { id: req.id, error: (e as Error).message };
    }
    try {
      port.postMessage(res, transfer);
    } catch {
      // A buffer onnxruntime allocated natively may refuse to move: copy it instead.
      port.postMessage(res);
    }
  });
}

void main();
