"""Golden values for image.fit 'squash', 'letterbox' and 'tile' (src/images/preprocess.ts), written with PIL
only (no torch): squash is `img.resize((crop, crop), Image.BILINEAR)`, letterbox is
`ImageOps.pad(img, (crop, crop), Image.BILINEAR, color, centering=(0.5, 0.5))` with the backbone's
mean colour; tile is `img.resize((cols * crop, rows * crop), Image.BILINEAR)` cut into rows × cols
crop×crop tiles, row-major, stored as [tiles, crop, crop, 3]. It first checks that this PIL reproduces an existing torchvision golden (Resize +
CenterCrop), so the new files come from the same resampler as golden/pipeline/.
Run: /usr/bin/python3 reference/golden_fit.py  (needs numpy and Pillow; writes golden/fit/*.npy)"""
import os

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(__file__)
OUT = os.path.join(HERE, "..", "golden", "fit")
os.makedirs(OUT, exist_ok=True)
IMAGENET_MEAN = [0.485, 0.456, 0.406]


def pattern_image(width, height):
    """The same pattern as simplenet_ref.pattern_image and src/testing/patterns.ts."""
    y, x = np.mgrid[0:height, 0:width].astype(np.int64)
    chans = [((x * 73 + y * 151 + c * 199) ^ (x * y)) & 255 for c in range(3)]
    return np.stack(chans, axis=-1).astype(np.uint8)


def torchvision_crop(img, resize, crop):
    """torchvision Resize(int) + CenterCrop on a PIL image, written out (transforms/functional.py)."""
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = resize, int(resize * long / short)
    size = (new_short, new_long) if w <= h else (new_long, new_short)
    r = img.resize(size, Image.BILINEAR)
    top = int(round((size[1] - crop) / 2.0))
    left = int(round((size[0] - crop) / 2.0))
    return np.asarray(r.crop((left, top, left + crop, top + crop)), dtype=np.uint8)


def save(name, arr):
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(arr))


# This PIL against the torchvision goldens: the same resampler, or no new goldens.
for (w, h, resize, crop) in [(37, 23, 20, 16), (31, 57, 13, 11), (800, 600, 329, 288)]:
    ours = torchvision_crop(Image.fromarray(pattern_image(w, h)), resize, crop)
    ref = np.load(os.path.join(HERE, "..", "golden", "pipeline", f"crop_{w}x{h}_{resize}_{crop}.npy"))
    assert np.array_equal(ours, ref), f"PIL differs from the torchvision golden {w}x{h}"

pad_colour = tuple(int(round(m * 255)) for m in IMAGENET_MEAN)
# Downscale, upscale, wide, tall, near-square (rounding of the short side), extreme aspect.
for (w, h, crop) in [(61, 45, 24), (37, 23, 16), (31, 57, 11), (20, 9, 32), (150, 37, 40), (101, 100, 30), (300, 40, 48)]:
    img = Image.fromarray(pattern_image(w, h))
    save(f"squash_{w}x{h}_{crop}", np.asarray(img.resize((crop, crop), Image.BILINEAR), dtype=np.uint8))
    save(f"letterbox_{w}x{h}_{crop}", np.asarray(ImageOps.pad(img, (crop, crop), Image.BILINEAR, pad_colour, (0.5, 0.5)), dtype=np.uint8))

# At the resampler's exact limit (images/preprocess.ts MAX_EXACT_DOWNSCALE = 226): 4500 → 20 is a
# 225× shrink, 451 taps per output.
img = Image.fromarray(pattern_image(4500, 30))
save("squash_4500x30_20", np.asarray(img.resize((20, 20), Image.BILINEAR), dtype=np.uint8))

# Tiles: wide, tall, a grid of both, and a single tile (which is squash).
for (w, h, crop, rows, cols) in [(150, 37, 20, 1, 4), (31, 57, 11, 2, 1), (61, 45, 24, 2, 3), (37, 23, 16, 1, 1)]:
    canvas = np.asarray(Image.fromarray(pattern_image(w, h)).resize((cols * crop, rows * crop), Image.BILINEAR), dtype=np.uint8)
    tiles = canvas.reshape(rows, crop, cols, crop, 3).transpose(0, 2, 1, 3, 4).reshape(rows * cols, crop, crop, 3)
    save(f"tile_{w}x{h}_{crop}_{rows}x{cols}", tiles)

# Random noise (the worst case for rounding), stored with its input.
rng = np.random.default_rng(13)
noise = rng.integers(0, 256, size=(45, 61, 3), dtype=np.uint8)
save("noise_input", noise)
save("noise_squash_24", np.asarray(Image.fromarray(noise).resize((24, 24), Image.BILINEAR), dtype=np.uint8))
save("noise_letterbox_24", np.asarray(ImageOps.pad(Image.fromarray(noise), (24, 24), Image.BILINEAR, pad_colour, (0.5, 0.5)), dtype=np.uint8))
print("wrote", OUT, "pad colour", pad_colour)
