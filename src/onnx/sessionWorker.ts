/**
 * One worker thread of a `WorkerSessions` pool (workerSessions.ts): it opens its own onnxruntime
 * session from the bytes it is given and runs whatever the pool sends, one run at a time.
 * onnxruntime-node's `run` occupies its calling thread until the graph is done (its binding is
 * synchronous), so only a run on another thread leaves the main event loop free.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fromOrt, Session } from './session.js';
import type { HostTensor } from './tensor.js';
import type { WireRequest, WireResponse, WorkerInit } from './workerSessions.js';

const init = workerData as WorkerInit;
const port = parentPort!;

async function main(): Promise<void> {
  let session: Session;
  try {
    session = await Session.create(init.model, init.label, init.options);
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
      const out = await session.run(req.feeds, req.fetches);
      const outputs: Record<string, HostTensor> = {};
      for (const [k, v] of Object.entries(out)) {
        outputs[k] = fromOrt(v);
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
