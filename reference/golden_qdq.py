"""Golden values for the static int8 quantizer (src/onnx/quantize.ts): a tiny conv net
  x → Conv1(3→4, 3×3, pad 1) → Relu → a;  a → Conv2(4→4, 3×3, pad 1) → c;  y = Relu(a + c)
in float32, its MinMax ranges over the input, the quantization parameters computed from them
(activations uint8 asymmetric per tensor with the range widened to include 0; weights int8
symmetric per output channel, qmax 127 for 8-bit and 63 for 7-bit; bias int32 at scale
x_scale·w_scale[c]) and the QDQ graph's output simulated op by op, for both weight widths.
Fake quantization is torch's fake_quantize_per_tensor_affine / fake_quantize_per_channel_affine
formula (aten FakeQuantPerTensorAffine / PerChannelAffine CPU kernels: (clamp(nearbyint(x ·
(1/scale)) + zp, qmin, qmax) − zp) · scale in float32) written in numpy: this machine's python has
no torch build that loads (the only wheel needs CUDA libraries), and the convolutions are float64
numpy, so nothing here comes from the code under test. The Relus are not separate ops in the
QDQ graph: the unit's output quantization (zero point 0) saturates at 0, which is the same value.
The seed is chosen so that no value quantized in the graph lies within MARGIN steps of a rounding
tie: float summation-order differences between torch and onnxruntime then cannot flip a step.
Run: /usr/bin/python3 reference/golden_qdq.py  (needs numpy only; writes golden/qdq/)"""
import json
import os

import numpy as np

HERE = os.path.dirname(__file__)
OUT = os.path.join(HERE, "..", "golden", "qdq")
os.makedirs(OUT, exist_ok=True)
MARGIN = 5e-4


def act_params(lo, hi):
    """onnxruntime's compute_scale_zp for uint8: the range includes 0, scale stored as float32."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi == lo:
        return 1.0, 0
    scale = float(np.float32((hi - lo) / 255.0))
    zp = int(np.clip(np.round(0 - lo / scale), 0, 255))
    return scale, zp


def weight_scales(w, qmax):
    m = np.abs(w.reshape(w.shape[0], -1)).max(axis=1).astype(np.float64)
    return np.where(m > 0, m / qmax, 1.0).astype(np.float32)


def tie_distance(x, scale):
    """Distance (in steps) of x/scale from the nearest rounding tie, as onnxruntime divides."""
    t = (np.asarray(x, np.float32) / np.float32(scale)).astype(np.float64)
    return float(np.abs(t - np.floor(t) - 0.5).min())


def fake_quant(x, scale, zp, qmin, qmax):
    """torch's fake-quantize formula; scale and zp broadcast (per tensor or per channel)."""
    scale = np.asarray(scale, np.float32)
    inv = (np.float32(1) / scale).astype(np.float32)
    q = np.clip(np.rint(np.asarray(x, np.float32) * inv) + zp, qmin, qmax)
    return ((q - zp) * scale).astype(np.float32)


def fq(x, scale, zp):
    return fake_quant(x, scale, zp, 0, 255)


def conv2d(x, w, b):
    """3×3 convolution, stride 1, zero padding 1, NCHW, in float64, rounded to float32."""
    n, c, h, wd = x.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, w.shape[0], h, wd))
    for i in range(3):
        for j in range(3):
            out += np.einsum("nchw,oc->nohw", xp[:, :, i : i + h, j : j + wd], w[:, :, i, j].astype(np.float64))
    return (out + b.astype(np.float64)[None, :, None, None]).astype(np.float32)


def simulate(x, w1, b1, w2, b2, p, qmax):
    """The QDQ graph op by op; returns the output and the smallest tie distance met."""
    s1, s2 = weight_scales(w1, qmax), weight_scales(w2, qmax)
    w1q = fake_quant(w1, s1[:, None, None, None], 0, -qmax, qmax)
    w2q = fake_quant(w2, s2[:, None, None, None], 0, -qmax, qmax)

    def bias(b, sx, sw):
        scale = (np.float32(sx) * sw).astype(np.float32)
        return (np.round(b / scale) * scale).astype(np.float32)

    dist = [tie_distance(x, p["x"][0])]
    xq = fq(x, *p["x"])
    h1 = conv2d(xq, w1q, bias(b1, p["x"][0], s1))
    dist.append(tie_distance(np.maximum(h1, 0), p["a"][0]))
    a = fq(h1, *p["a"])
    h2 = conv2d(a, w2q, bias(b2, p["a"][0], s2))
    dist.append(tie_distance(h2, p["c"][0]))
    c = fq(h2, *p["c"])
    dist.append(tie_distance(np.maximum(a + c, 0), p["y"][0]))
    y = fq(a + c, *p["y"])
    return y, min(dist), s1, s2


def build(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (1, 3, 8, 8)).astype(np.float32)
    w1 = (rng.normal(0, 1, (4, 3, 3, 3)) * np.sqrt(2 / 27)).astype(np.float32)
    b1 = rng.normal(0, 0.1, 4).astype(np.float32)
    w2 = (rng.normal(0, 1, (4, 4, 3, 3)) * np.sqrt(2 / 36)).astype(np.float32)
    b2 = rng.normal(0, 0.1, 4).astype(np.float32)
    a = np.maximum(conv2d(x, w1, b1), 0)
    c = conv2d(a, w2, b2)
    y = np.maximum(a + c, 0)
    values = {"x": x, "a": a, "c": c, "y": y}
    ranges = {k: {"min": float(v.min()), "max": float(v.max())} for k, v in values.items()}
    params = {k: act_params(r["min"], r["max"]) for k, r in ranges.items()}
    sims = {bits: simulate(x, w1, b1, w2, b2, params, qmax) for bits, qmax in [(8, 127), (7, 63)]}
    return x, (w1, b1, w2, b2), y, ranges, params, sims


for seed in range(100):
    x, weights, y, ranges, params, sims = build(seed)
    if min(s[1] for s in sims.values()) > MARGIN:
        break
else:
    raise SystemExit("no seed keeps every quantized value away from rounding ties")


def save(name, arr):
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(arr))


save("x", x)
for name, arr in zip(["w1", "b1", "w2", "b2"], weights):
    save(name, arr)
save("y_float", y)
for bits, (yq, dist, s1, s2) in sims.items():
    save(f"y_qdq_w{bits}", yq)
    save(f"w1_scale_w{bits}", s1)
    save(f"w2_scale_w{bits}", s2)
with open(os.path.join(OUT, "params.json"), "w") as f:
    json.dump({"seed": seed, "margin": MARGIN, "ranges": ranges, "activations": {k: {"scale": s, "zeroPoint": z} for k, (s, z) in params.items()}}, f, indent=1)
print("wrote", OUT, "seed", seed, "tie distances", {b: round(s[1], 5) for b, s in sims.items()})
