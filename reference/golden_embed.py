"""Golden end-to-end patch embedding: image → torchvision transform → small random bottleneck
ResNet (golden/backbones/bottleneck.safetensors) → SimpleNet embedding.
Run: /usr/bin/python3 reference/golden_embed.py  (after golden_backbones.py)"""
import json
import os
import struct

import numpy as np
import torch
from PIL import Image
from torchvision.models.resnet import Bottleneck, ResNet

import simplenet_ref as ref

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "golden")
NP = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I64": np.int64}


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=NP[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float32) if e["dtype"] != "I64" else arr.copy())
    return out


def features(model, x):
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    l1 = model.layer1(x)
    l2 = model.layer2(l1)
    l3 = model.layer3(l2)
    return [l2, l3]


if __name__ == "__main__":
    model = ResNet(Bottleneck, [1, 1, 1, 1], width_per_group=16)
    model.load_state_dict(load_safetensors(os.path.join(GOLDEN, "backbones", "bottleneck.safetensors")), strict=False)
    model.eval()
    img = Image.fromarray(ref.pattern_image(90, 75))
    x = ref.transform(resize=72, crop=64)(img).unsqueeze(0)
    with torch.no_grad():
        emb = ref.embed(features(model, x), 1536, 1536)
    out = os.path.join(GOLDEN, "pipeline", "e2e_bottleneck_90x75_72_64.npy")
    np.save(out, emb.numpy().astype(np.float32))
    print("wrote", out, tuple(emb.shape))
