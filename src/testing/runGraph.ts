/** Test support: build a one-off graph around a node-adding function and run it. */
import { GraphBuilder } from '../onnx/builder.js';
import { Session } from '../onnx/session.js';
import type { DType, HostTensor } from '../onnx/tensor.js';

export async function runGraph(
  inputs: Record<string, HostTensor>,
  body: (g: GraphBuilder, values: Record<string, string>) => string | string[],
): Promise<Float32Array[]> {
  const g = new GraphBuilder('test');
  const values: Record<string, string> = {};
  for (const [name, t] of Object.entries(inputs)) values[name] = g.input(name, t.dtype as DType, [...t.dims]);
  const result = body(g, values);
  const outs = Array.isArray(result) ? result : [result];
  outs.forEach((v, i) => g.output(v, `out${i}`, 'float32'));
  const s = await Session.create(g.toModel(), 'test graph');
  const r = await s.run(inputs);
  await s.release();
  return outs.map((_, i) => r[`out${i}`].data as Float32Array);
}
