"""Golden files for src/weights: one small state dict saved as safetensors, as a zip .pth
(torch >= 1.6) and as a legacy .pth (pickle stream + raw storages), with the expected tensors as
.npy; plus .pth files whose pickles call forbidden functions, and a resnet18 state dict up to
layer1 (float16, to stay small) as a zip .pth for the backbone loading path.

Run with /usr/bin/python3 (Debian torch 1.13 + torchvision 0.14):
    /usr/bin/python3 reference/golden_weights.py
Writes golden/weights/ (< 1 MB in all).
"""
import collections
import json
import os
import pickle
import struct

import numpy as np
import torch
from torchvision.models import resnet18

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'golden', 'weights')

DTYPES = {torch.float16: 'F16', torch.float32: 'F32', torch.float64: 'F64', torch.int64: 'I64',
          torch.int32: 'I32', torch.bfloat16: 'BF16', torch.uint8: 'U8'}

# If any of these pickles were ever executed, this file would appear; the tests assert it does not.
MARKER = '/tmp/simplenet-golden-weights-pwned'


def raw_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype('<i2').tobytes()
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder('<')).tobytes()


def save_safetensors(path, tensors):
    """The safetensors format by hand (Debian has no safetensors package): u64 LE header length, JSON header, raw LE data."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        data = raw_bytes(tensors[name])
        header[name] = {'dtype': DTYPES[tensors[name].dtype], 'shape': list(tensors[name].shape),
                        'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':'))
    text += ' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text.encode())
        for c in chunks:
            f.write(c)


def tiny_state_dict():
    g = torch.Generator().manual_seed(3)
    # One storage shared by three views: offsets, strides and a transposed view must all be honoured.
    shared = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5 - 3
    sd = collections.OrderedDict()
    sd['conv1.weight'] = torch.randn(4, 3, 3, 3, generator=g)
    sd['bn1.running_mean'] = torch.randn(4, generator=g)
    sd['bn1.num_batches_tracked'] = torch.tensor(17, dtype=torch.int64)
    sd['half.weight'] = torch.randn(2, 5, generator=g).half()
    sd['double.bias'] = torch.randn(3, generator=g).double()
    sd['int.index'] = torch.tensor([-2, 0, 7, 2**31 - 1], dtype=torch.int32)
    sd['bf16.weight'] = torch.randn(3, generator=g).bfloat16()
    sd['view.row'] = shared[1]
    sd['view.col'] = shared[:, 2]
    sd['view.t'] = shared.t()
    sd['empty.weight'] = torch.zeros(0, 3)
    # torchvision state dicts carry per-module versions in an attribute of the OrderedDict.
    sd._metadata = collections.OrderedDict([('', {'version': 1}), ('bn1', {'version': 2})])
    assert sd['view.col'].storage_offset() == 2 and sd['view.col'].stride() == (6,)
    assert sd['view.t'].stride() == (1, 6)
    return sd


class Evil:
    """A pickle that would run a shell command on load."""

    def __reduce__(self):
        return (os.system, (f'touch {MARKER}',))


class LoadFromBytes:
    """torch.storage._load_from_bytes unpickles its argument: arbitrary code again."""

    def __reduce__(self):
        return (torch.storage._load_from_bytes, (b'not really',))


def resnet18_layer1():
    torch.manual_seed(0)
    m = resnet18()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                n = mod.num_features
                mod.weight.copy_(torch.rand(n) + 0.5)
                mod.bias.copy_(torch.randn(n) * 0.2)
                mod.running_mean.copy_(torch.randn(n) * 0.2)
                mod.running_var.copy_(torch.rand(n) + 0.5)
    full = m.state_dict()
    keep = collections.OrderedDict(
        (k, v.half() if v.is_floating_point() else v)
        for k, v in full.items() if k.startswith(('conv1.', 'bn1.', 'layer1.')))
    keep._metadata = full._metadata
    return keep


def main():
    os.makedirs(OUT, exist_ok=True)
    sd = tiny_state_dict()
    save_safetensors(os.path.join(OUT, 'tiny.safetensors'), {k: v for k, v in sd.items()})
    torch.save(sd, os.path.join(OUT, 'tiny_zip.pth'))
    torch.save(sd, os.path.join(OUT, 'tiny_legacy.pth'), _use_new_zipfile_serialization=False)
    for f in ('tiny_zip.pth', 'tiny_legacy.pth'):
        back = torch.load(os.path.join(OUT, f))
        assert list(back) == list(sd) and all(torch.equal(back[k], sd[k]) for k in sd), f

    expected = os.path.join(OUT, 'expected')
    os.makedirs(expected, exist_ok=True)
    cases = {}
    for k, v in sd.items():
        arr = v.float().numpy() if v.dtype == torch.bfloat16 else v.contiguous().numpy()
        np.save(os.path.join(expected, f'{k}.npy'), arr)
        cases[k] = {'dtype': str(v.dtype).replace('torch.', ''), 'shape': list(v.shape)}
    with open(os.path.join(OUT, 'cases.json'), 'w') as f:
        json.dump({'keys': list(sd), 'tensors': cases, 'marker': MARKER}, f, indent=1)

    # Forbidden callables, in both torch formats and as a bare pickle.
    evil = collections.OrderedDict([('conv1.weight', torch.ones(2)), ('payload', Evil())])
    torch.save(evil, os.path.join(OUT, 'evil_zip.pth'))
    torch.save(evil, os.path.join(OUT, 'evil_legacy.pth'), _use_new_zipfile_serialization=False)
    torch.save({'payload': LoadFromBytes()}, os.path.join(OUT, 'evil_load_from_bytes.pth'))
    with open(os.path.join(OUT, 'evil_plain.pkl'), 'wb') as f:
        pickle.dump(Evil(), f, protocol=2)

    torch.save(resnet18_layer1(), os.path.join(OUT, 'resnet18_layer1.pth'))
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(OUT) for fn in fns)
    print(f'wrote {OUT} ({total} bytes)')
    assert total < 1_000_000


if __name__ == '__main__':
    main()
