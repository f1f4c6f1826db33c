"""Golden values for the preprocessing, patch embedding and anomaly-map graphs.
Run: /usr/bin/python3 reference/golden_pipeline.py  (writes golden/pipeline/*.npy)"""
import os

import numpy as np
import scipy.ndimage
import torch
import torch.nn.functional as F
from PIL import Image

import simplenet_ref as ref

OUT = os.path.join(os.path.dirname(__file__), "..", "golden", "pipeline")
os.makedirs(OUT, exist_ok=True)


def save(name, arr):
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(arr))


rng = np.random.default_rng(0)
torch.manual_seed(0)

# Resize(shorter side) + CenterCrop with PIL, on busy patterns: downscale, non-square, upscale, large.
for (w, h, resize, crop) in [(900, 900, 329, 288), (800, 600, 329, 288), (100, 100, 329, 288),
                             (1500, 2000, 329, 288), (37, 23, 20, 16), (31, 57, 13, 11)]:
    img = Image.fromarray(ref.pattern_image(w, h))
    save(f"crop_{w}x{h}_{resize}_{crop}", ref.pil_crop(img, resize, crop))

# Random noise (worst case for rounding), stored with its input.
noise = rng.integers(0, 256, size=(45, 61, 3), dtype=np.uint8)
save("noise_input", noise)
save("noise_crop_29_24", ref.pil_crop(Image.fromarray(noise), 29, 24))
# Grey image (PIL 'L' → RGB).
grey = rng.integers(0, 256, size=(33, 47), dtype=np.uint8)
save("grey_input", grey)
save("grey_crop_20_18", ref.pil_crop(Image.fromarray(grey, mode="L"), 20, 18))

# Bilinear interpolation (align_corners=False), up and down, non-square.
x = torch.randn(1, 3, 5, 7)
save("bilinear_input", x.numpy())
save("bilinear_11x13", F.interpolate(x, size=(11, 13), mode="bilinear", align_corners=False).numpy())
save("bilinear_3x4", F.interpolate(x, size=(3, 4), mode="bilinear", align_corners=False).numpy())
x18 = torch.randn(2, 4, 18, 18)
save("bilinear18_input", x18.numpy())
save("bilinear18_36", F.interpolate(x18, size=(36, 36), mode="bilinear", align_corners=False).numpy())

# adaptive_avg_pool1d along the feature axis: even and uneven lengths.
for (L, O) in [(12, 4), (4608, 1536), (10, 4), (7, 3), (1728, 1536), (5184, 1536)]:
    v = torch.randn(2, L)
    save(f"pool_{L}_{O}_input", v.numpy())
    save(f"pool_{L}_{O}", F.adaptive_avg_pool1d(v.reshape(2, 1, L), O).reshape(2, O).numpy())

# Unfold with zero padding, as SimpleNet's patchify lays it out: B×L×C×3×3.
u = torch.randn(2, 4, 5, 6)
save("unfold_input", u.numpy())
save("unfold", ref.patchify(u)[0].numpy())

# Patch embedding: WRN50-like channel counts on small grids, MobileNetV2-like (uneven pooling), tiny uneven.
cases = {
    "wrn": ([(2, 512, 6, 6), (2, 1024, 3, 3)], 1536, 1536),
    "mnv2": ([(1, 192, 4, 4), (1, 576, 2, 2)], 1536, 1536),
    "tiny": ([(2, 8, 6, 6), (2, 16, 3, 3)], 12, 10),
}
for name, (shapes, pre, tgt) in cases.items():
    layers = [torch.randn(*s).abs() for s in shapes]
    for i, l in enumerate(layers):
        save(f"embed_{name}_layer{i}", l.numpy())
    save(f"embed_{name}", ref.embed(layers, pre, tgt).numpy())

# Gaussian filter (scipy, reflect, truncate 4) and the full anomaly map (bilinear 36→288, σ=4).
gimg = rng.standard_normal((40, 30)).astype(np.float32)
save("gauss_input", gimg)
save("gauss_sigma4", scipy.ndimage.gaussian_filter(gimg, sigma=4))
save("gauss_sigma2", scipy.ndimage.gaussian_filter(gimg, sigma=2))
scores = rng.standard_normal((2, 36, 36)).astype(np.float32)
save("map_scores", scores)
save("map_288", ref.anomaly_map(scores, 288).astype(np.float32))
print("wrote", OUT)
