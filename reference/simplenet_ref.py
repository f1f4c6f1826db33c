"""Our own PyTorch reference of SimpleNet's data transform and patch embedding (spec §1.2, §2.3, §7),
written from the specification for golden tests. Dev-time only: never imported by the package."""
import numpy as np
import scipy.ndimage
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def transform(resize=329, crop=288, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    return transforms.Compose([
        transforms.Resize(resize),
        transforms.CenterCrop(crop),
        transforms.ToTensor(),
        transforms.Normalize(mean=mean, std=std),
    ])


def pil_crop(img: Image.Image, resize: int, crop: int) -> np.ndarray:
    """The uint8 pixels after Resize + CenterCrop, HWC."""
    t = transforms.Compose([transforms.Resize(resize), transforms.CenterCrop(crop)])
    return np.asarray(t(img.convert("RGB")), dtype=np.uint8)


def patchify(features, patchsize=3, stride=1):
    padding = int((patchsize - 1) / 2)
    unfolder = torch.nn.Unfold(kernel_size=patchsize, stride=stride, padding=padding, dilation=1)
    unfolded = unfolder(features)
    n = []
    for s in features.shape[-2:]:
        n.append(int((s + 2 * padding - 1 * (patchsize - 1) - 1) / stride + 1))
    unfolded = unfolded.reshape(*features.shape[:2], patchsize, patchsize, -1)
    unfolded = unfolded.permute(0, 4, 1, 2, 3)
    return unfolded, n


def mean_mapper(features, dim):
    features = features.reshape(len(features), 1, -1)
    return F.adaptive_avg_pool1d(features, dim).squeeze(1)


def embed(layers, pretrain_dim=1536, target_dim=1536, patchsize=3):
    """layers: list of B×C×H×W tensors, finest first. Returns (B·H·W)×target_dim."""
    feats = [patchify(x, patchsize) for x in layers]
    shapes = [f[1] for f in feats]
    feats = [f[0] for f in feats]
    ref = shapes[0]
    for i in range(1, len(feats)):
        f = feats[i]
        pd = shapes[i]
        f = f.reshape(f.shape[0], pd[0], pd[1], *f.shape[2:])
        f = f.permute(0, -3, -2, -1, 1, 2)
        base = f.shape
        f = f.reshape(-1, *f.shape[-2:])
        f = F.interpolate(f.unsqueeze(1), size=(ref[0], ref[1]), mode="bilinear", align_corners=False)
        f = f.squeeze(1)
        f = f.reshape(*base[:-2], ref[0], ref[1])
        f = f.permute(0, -2, -1, 1, 2, 3)
        f = f.reshape(len(f), -1, *f.shape[-3:])
        feats[i] = f
    feats = [x.reshape(-1, *x.shape[-3:]) for x in feats]
    pooled = torch.stack([mean_mapper(f, pretrain_dim) for f in feats], dim=1)
    pooled = pooled.reshape(len(pooled), 1, -1)
    return F.adaptive_avg_pool1d(pooled, target_dim).reshape(len(pooled), -1)


def anomaly_map(patch_scores: np.ndarray, size: int, sigma: float = 4.0) -> np.ndarray:
    """patch_scores B×h×w → B×size×size as SimpleNet's RescaleSegmentor."""
    t = torch.from_numpy(patch_scores).unsqueeze(1)
    up = F.interpolate(t, size=size, mode="bilinear", align_corners=False).squeeze(1).numpy()
    return np.stack([scipy.ndimage.gaussian_filter(m, sigma=sigma) for m in up])


def pattern_image(width: int, height: int) -> np.ndarray:
    """A deterministic busy RGB pattern that the TypeScript tests can regenerate exactly."""
    y, x = np.mgrid[0:height, 0:width].astype(np.int64)
    chans = [((x * 73 + y * 151 + c * 199) ^ (x * y)) & 255 for c in range(3)]
    return np.stack(chans, axis=-1).astype(np.uint8)
