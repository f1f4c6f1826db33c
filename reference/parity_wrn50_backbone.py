"""Scratch parity check (not CI): a full-size random torchvision wide_resnet50_2 against our graph.

    cd /work/main && npx tsc -p . && /usr/bin/python3 reference/parity_wrn50_backbone.py

Writes only under /tmp/wrn50_parity/: the whole state dict (layer4 and fc included, as a real
checkpoint would be) as safetensors, one 288x288 input, and torch's layer2/layer3 outputs. Then runs
our builder + onnxruntime via node and prints the max relative error and the time per image.
BN parameters and running stats are randomised so that BatchNorm folding is really exercised.
"""
import json
import os
import struct
import subprocess
import time

import numpy as np
import torch
import torchvision

TMP = '/tmp/wrn50_parity'
REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')

NODE_SCRIPT = r"""
import { readFileSync } from 'node:fs';
import { resolveBackbone } from './dist/src/backbones/backbone.js';
import { decodeNpy } from './dist/src/io/npy.js';
import { Session } from './dist/src/onnx/session.js';
const dir = process.argv[1];
const npy = (n) => decodeNpy(readFileSync(`${dir}/${n}.npy`), n);
let t = performance.now();
const b = await resolveBackbone({ backbone: 'wide_resnet50_2', weights: `${dir}/wrn50.safetensors` });
console.log(`resolve+build: ${(performance.now() - t).toFixed(0)} ms, model ${(b.onnx.length / 1e6).toFixed(1)} MB, layers ${b.layers}`);
t = performance.now();
const s = await Session.create(b.onnx, 'wrn50');
console.log(`session create: ${(performance.now() - t).toFixed(0)} ms`);
const image = npy('input');
const times = [];
let out;
for (let i = 0; i < 4; i++) {
  t = performance.now();
  out = await s.run({ image });
  times.push(performance.now() - t);
}
console.log(`run 1x3x288x288: ${times.map((x) => x.toFixed(0)).join(', ')} ms (first includes warm-up)`);
for (const l of b.layers) {
  const want = npy(l).data, got = out[l].data;
  let err = 0, scale = 0;
  for (let i = 0; i < want.length; i++) { err = Math.max(err, Math.abs(got[i] - want[i])); scale = Math.max(scale, Math.abs(want[i])); }
  console.log(`${l} [${out[l].dims}]: max abs err ${err.toExponential(3)}, scale ${scale.toFixed(3)}, max relative ${(err / scale).toExponential(3)}`);
}
"""


def save_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        data = tensors[name].contiguous().numpy().tobytes()
        dtype = {torch.float32: 'F32', torch.int64: 'I64'}[tensors[name].dtype]
        header[name] = {'dtype': dtype, 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':'))
    text += ' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text.encode())
        for c in chunks:
            f.write(c)


def main():
    os.makedirs(TMP, exist_ok=True)
    torch.manual_seed(0)
    model = torchvision.models.wide_resnet50_2()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(torch.rand(n) + 0.5)
                m.bias.copy_(torch.randn(n) * 0.2)
                m.running_mean.copy_(torch.randn(n) * 0.2)
                m.running_var.copy_(torch.rand(n) * 1.5 + 0.5)
    model.eval()
    save_safetensors(os.path.join(TMP, 'wrn50.safetensors'), model.state_dict())
    x = torch.randn(1, 3, 288, 288)
    np.save(os.path.join(TMP, 'input.npy'), x.numpy())

    def features(m, inp):
        with torch.no_grad():
            h = m.maxpool(m.relu(m.bn1(m.conv1(inp))))
            l2 = m.layer2(m.layer1(h))
            return l2, m.layer3(l2)

    t = time.time()
    f32 = features(model, x)
    print(f'torch float32 layer2+3: {(time.time() - t) * 1000:.0f} ms')
    # The reference is float64, so the error printed by node is ours, not torch's.
    f64 = features(model.double(), x.double())
    for name, a, b in zip(['layer2', 'layer3'], f32, f64):
        np.save(os.path.join(TMP, f'{name}.npy'), b.float().numpy())
        rel = (a.double() - b).abs().max() / b.abs().max()
        print(f'torch float32 vs float64 {name}: max relative {rel:.3e}')
    subprocess.run(['node', '--input-type=module', '-e', NODE_SCRIPT, TMP], cwd=REPO, check=True)


if __name__ == '__main__':
    main()
