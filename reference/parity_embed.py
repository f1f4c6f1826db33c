"""`npm run parity`, PyTorch side: a full-size random wide_resnet50_2 (torchvision, eval mode, BN
statistics randomised), its state dict as safetensors, and the reference SimpleNet embedding of one
image through torchvision's transform. Usage: parity_embed.py <out-dir> <image>"""
import os
import sys

import numpy as np
import torch
from PIL import Image
from torchvision.models import wide_resnet50_2

import simplenet_ref as ref
from golden_backbones import save_safetensors
from golden_embed import features

out_dir, image_path = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
model = wide_resnet50_2()
gen = torch.Generator().manual_seed(1)
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.weight.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.copy_(torch.randn(n, generator=gen) * 0.1)
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
model.eval()
state = {k: v for k, v in model.state_dict().items()}
save_safetensors(os.path.join(out_dir, "wide_resnet50_2.safetensors"), state)
x = ref.transform()(Image.open(image_path).convert("RGB")).unsqueeze(0)
with torch.no_grad():
    emb = ref.embed(features(model, x), 1536, 1536)
np.save(os.path.join(out_dir, "reference_embedding.npy"), emb.numpy().astype(np.float32))
print("reference embedding", tuple(emb.shape))
