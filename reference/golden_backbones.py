"""Golden files for src/backbones: small random torchvision ResNets, their state dicts as
safetensors and their layer outputs on a fixed input.

Run with /usr/bin/python3 (Debian torch 1.13 + torchvision 0.14):
    /usr/bin/python3 reference/golden_backbones.py
Writes golden/backbones/. Conv weights are stored as F16 (to keep the files small and to exercise
the F16 path); the models use exactly those F16-rounded weights. BN parameters and running stats
are randomised (F32) so BatchNorm is really tested; the forward pass runs in float64 in eval mode.
"""
import json
import os
import struct

import numpy as np
import torch
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'golden', 'backbones')

DTYPES = {torch.float16: 'F16', torch.float32: 'F32', torch.float64: 'F64', torch.int64: 'I64'}


def save_safetensors(path, tensors):
    """The safetensors format by hand: u64 LE header length, JSON header, raw LE data."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        data = t.numpy().astype(t.numpy().dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':'))
    text += ' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text.encode())
        for c in chunks:
            f.write(c)


def randomise(model, gen):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.weight.copy_(m.weight.half().float())
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(n, generator=gen) * 0.2)
                m.running_mean.copy_(torch.randn(n, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(100)
    model.eval()


def run_case(name, block, width, layers, x, gen):
    model = ResNet(block, [1, 1, 1, 1], width_per_group=width)
    randomise(model, gen)
    last = max(int(l[-1]) for l in layers)
    state = {}
    for k, v in model.state_dict().items():
        # Drop the stages the test does not build (and fc): it keeps the file small, and a
        # truncated state dict is a legitimate input.
        if k.startswith('fc.') or (k.startswith('layer') and int(k[5]) > last):
            continue
        is_conv_weight = v.dim() == 4
        state[k] = v.half() if is_conv_weight else v
    save_safetensors(os.path.join(OUT, f'{name}.safetensors'), state)

    m = model.double()
    feats = {}
    with torch.no_grad():
        h = m.maxpool(m.relu(m.bn1(m.conv1(x.double()))))
        for i in range(1, last + 1):
            h = getattr(m, f'layer{i}')(h)
            feats[f'layer{i}'] = h
    for l in layers:
        np.save(os.path.join(OUT, f'{name}_{l}.npy'), feats[l].float().numpy())
    block_name = 'bottleneck' if block is Bottleneck else 'basic'
    return {'block': block_name, 'blocks': [1, 1, 1, 1], 'widthPerGroup': width, 'groups': 1, 'layers': layers}


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 64, 64, generator=gen)
    np.save(os.path.join(OUT, 'input.npy'), x.numpy())
    cases = {
        'bottleneck': run_case('bottleneck', Bottleneck, 16, ['layer2', 'layer3'], x, gen),
        'basic': run_case('basic', BasicBlock, 64, ['layer1', 'layer2'], x, gen),
    }
    with open(os.path.join(OUT, 'cases.json'), 'w') as f:
        json.dump(cases, f, indent=2)
        f.write('\n')
    for name in sorted(os.listdir(OUT)):
        print(f'{name:32s} {os.path.getsize(os.path.join(OUT, name)):>9d} bytes')


if __name__ == '__main__':
    main()
