"""Goldens for src/heads: BatchNorm1d, Adam/AdamW updates, full SimpleNet training steps, scoring head.

Run with the Debian interpreter that has torch 1.13:  /usr/bin/python3 reference/golden_heads.py
Writes small float32 .npy files under golden/heads/. Dims are tiny on purpose (D=12, Hd=8, R=10);
the TypeScript graphs are dimension-generic.
"""
import math
import os
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "heads")
D, HD, R = 12, 8, 10
NOISE_STD = 0.3  # large so that real and fake scores differ at these tiny dims; noise is an input anyway


def save(rel, t):
    path = os.path.join(ROOT, rel + ".npy")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    a = t.detach().cpu().numpy() if torch.is_tensor(t) else np.asarray(t)
    np.save(path, np.ascontiguousarray(a.astype(np.float32)))


def bn_goldens():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2 * R, HD, generator=g) * 2 + 0.5
    bn = nn.BatchNorm1d(HD)
    with torch.no_grad():
        bn.weight.copy_(1 + 0.3 * torch.randn(HD, generator=g))
        bn.bias.copy_(0.2 * torch.randn(HD, generator=g))
        bn.running_mean.copy_(0.1 * torch.randn(HD, generator=g))
        bn.running_var.copy_(0.5 + torch.rand(HD, generator=g))
    save("bn/x", x)
    for k in ["weight", "bias", "running_mean", "running_var"]:
        save(f"bn/{k}", getattr(bn, k))
    bn.train()
    y = bn(x)
    save("bn/train_y", y)
    save("bn/train_running_mean", bn.running_mean)
    save("bn/train_running_var", bn.running_var)
    bn.eval()
    save("bn/eval_y", bn(x))  # uses the updated running stats


def optim_goldens():
    """State and result of the t-th update (t = 1 and 3) for Adam with L2 wd and for AdamW."""
    g = torch.Generator().manual_seed(2)
    n = 24
    for kind, cls, lr, wd in [("adam", torch.optim.Adam, 1e-2, 0.1), ("adamw", torch.optim.AdamW, 1e-2, 0.05)]:
        p = nn.Parameter(torch.randn(n, generator=g))
        opt = cls([p], lr=lr, weight_decay=wd, betas=(0.9, 0.999), eps=1e-8)
        grads = [torch.randn(n, generator=g) * s for s in (1.0, 0.3, 2.0)]
        for t in (1, 2, 3):
            st = opt.state[p]
            m0 = st["exp_avg"].clone() if st else torch.zeros(n)
            v0 = st["exp_avg_sq"].clone() if st else torch.zeros(n)
            p0 = p.detach().clone()
            p.grad = grads[t - 1].clone()
            opt.step()
            if t in (1, 3):
                pre = f"optim/{kind}_t{t}"
                save(pre + "_param", p0)
                save(pre + "_grad", grads[t - 1])
                save(pre + "_exp_avg", m0)
                save(pre + "_exp_avg_sq", v0)
                save(pre + "_param_next", p)
                save(pre + "_exp_avg_next", opt.state[p]["exp_avg"])
                save(pre + "_exp_avg_sq_next", opt.state[p]["exp_avg_sq"])
        save(f"optim/{kind}_hparams", [lr, wd])


def make_modules():
    adaptor = nn.Linear(D, D)
    disc = nn.Sequential(OrderedDict(
        fc1=nn.Linear(D, HD),
        bn=nn.BatchNorm1d(HD),
        act=nn.LeakyReLU(0.2),
        fc2=nn.Linear(HD, 1, bias=False),
    ))
    nn.init.xavier_normal_(adaptor.weight)
    nn.init.xavier_normal_(disc.fc1.weight)
    nn.init.xavier_normal_(disc.fc2.weight)
    with torch.no_grad():  # non-default BN state so every term of the BN forward/backward matters
        disc.bn.weight.copy_(1 + 0.2 * torch.randn(HD))
        disc.bn.bias.copy_(0.1 * torch.randn(HD))
        disc.bn.running_mean.copy_(0.1 * torch.randn(HD))
        disc.bn.running_var.copy_(0.5 + torch.rand(HD))
    return adaptor, disc


def state(adaptor, disc):
    out = {f"adaptor.{k}": v for k, v in adaptor.state_dict().items()}
    out.update({f"discriminator.{k}": v for k, v in disc.state_dict().items() if "num_batches" not in k})
    return out


def ascend(disc, true_feats, noise, steps, size):
    """GLASS-style ascent on the fakes' offsets: `steps` times, turn eps towards the gradient of the
    eval-mode discriminator's score at A + eps by size * |eps|, then rescale it to |eps|."""
    eps = noise.clone()
    if steps == 0:
        return eps
    disc.eval()
    length = eps.norm(dim=1, keepdim=True)
    for _ in range(steps):
        f = (true_feats.detach() + eps).requires_grad_(True)
        (grad,) = torch.autograd.grad(disc(f).sum(), f)
        unit = grad / (grad.norm(dim=1, keepdim=True) + 1e-12)
        moved = eps + unit * (length * size)
        eps = (moved * (length / (moved.norm(dim=1, keepdim=True) + 1e-12))).detach()
    disc.train()
    return eps


GIVEN_ROWS = [7, 1, 4]
REAL_ROWS = [2, 9]


def step_goldens(loss_kind="truncated-l1", root="step", hard=1.0, ascent=0, ascent_size=0.5, given=None, reals_target=None):
    """Two training steps; 'logistic' is BCE with logits (real = 1, fake = 0), written under step_logistic/.
    hard < 1: each branch's loss is the mean of its ceil(hard * R) largest per-row losses (topk).
    ascent > 0: the fakes' offsets are first turned by `ascend` and then held constant.
    given: rows GIVEN_ROWS take given backbone-space offsets E as their fakes, after the ascent:
    'offset' A + E (E a constant in the adaptor's output space), 'through' adaptor(X + E).
    reals_target t: rows REAL_ROWS are X + given offsets (their fakes too) and their real target is
    1 - t (BCE with logits; the rest stay 1); a list gives each of those rows its own t (saved as
    reals_targets)."""
    torch.manual_seed(3)
    adaptor, disc = make_modules()
    a_opt = torch.optim.AdamW(adaptor.parameters(), lr=1e-4)  # weight_decay default 0.01
    d_opt = torch.optim.Adam(disc.parameters(), lr=2e-4, weight_decay=1e-5)
    for k, v in state(adaptor, disc).items():
        save(f"{root}/init/{k}", v)
    th = 0.5
    for s in (1, 2):
        x = torch.randn(R, D) * 1.5
        noise = torch.randn(R, D) * NOISE_STD
        save(f"{root}/{s}/features", x)
        save(f"{root}/{s}/noise", noise)
        true_target = torch.ones(R, 1)
        if reals_target is not None:
            moved = torch.randn(len(REAL_ROWS), D) * 0.8
            save(f"{root}/{s}/reals_offsets", moved)
            save(f"{root}/{s}/reals_rows", torch.tensor(REAL_ROWS, dtype=torch.float32))
            x = x.index_add(0, torch.tensor(REAL_ROWS), moved)
            t = torch.tensor(reals_target, dtype=torch.float32).reshape(-1, 1) if isinstance(reals_target, list) else reals_target
            if isinstance(reals_target, list):
                save(f"{root}/{s}/reals_targets", t.flatten())
            true_target[REAL_ROWS] = 1 - t
        adaptor.train(); disc.train()
        a_opt.zero_grad(); d_opt.zero_grad()
        true_feats = adaptor(x)
        fake_feats = true_feats + ascend(disc, true_feats, noise, ascent, ascent_size)
        if given:
            offsets = torch.randn(len(GIVEN_ROWS), D) * 0.8
            save(f"{root}/{s}/given_offsets", offsets)
            save(f"{root}/{s}/given_rows", torch.tensor(GIVEN_ROWS, dtype=torch.float32))
            rows = torch.tensor(GIVEN_ROWS)
            made = adaptor(x[rows] + offsets) if given == "through" else true_feats[rows] + offsets
            keep = torch.ones(R, 1)
            keep[rows] = 0
            fake_feats = fake_feats * keep + torch.zeros(R, D).index_add(0, rows, made)
        scores = disc(torch.cat([true_feats, fake_feats]))
        true_scores, fake_scores = scores[:R], scores[R:]
        if loss_kind == "logistic":
            bce = nn.functional.binary_cross_entropy_with_logits
            true_loss = bce(true_scores, true_target, reduction="none")
            fake_loss = bce(fake_scores, torch.zeros_like(fake_scores), reduction="none")
        else:
            true_loss = torch.clip(-true_scores + th, min=0)
            fake_loss = torch.clip(fake_scores + th, min=0)
        k = max(1, math.ceil(hard * R))
        top = (lambda v: torch.topk(v.flatten(), k).values) if hard < 1 else (lambda v: v)
        loss = top(true_loss).mean() + top(fake_loss).mean()
        p_true = (true_scores.detach() >= th).sum() / len(true_scores)
        p_fake = (fake_scores.detach() < -th).sum() / len(fake_scores)
        loss.backward()
        a_opt.step(); d_opt.step()
        save(f"{root}/{s}/metrics", [loss.item(), p_true.item(), p_fake.item()])
        print(f"{root} {s}: loss {loss.item():.6f} p_true {p_true.item():.2f} p_fake {p_fake.item():.2f}")
        for k, v in state(adaptor, disc).items():
            save(f"{root}/{s}/{k}", v)
        for prefix, module, opt in (("adaptor", adaptor, a_opt), ("discriminator", disc, d_opt)):
            for k, p in module.named_parameters():
                save(f"{root}/{s}/{prefix}.{k}.exp_avg", opt.state[p]["exp_avg"])
                save(f"{root}/{s}/{prefix}.{k}.exp_avg_sq", opt.state[p]["exp_avg_sq"])
    if loss_kind != "truncated-l1":
        return
    # Eval-mode scores of the trained head on fresh features.
    adaptor.eval(); disc.eval()
    x = torch.randn(15, D) * 1.5
    with torch.no_grad():
        scores = -disc(adaptor(x)).squeeze(1)
    save("score/features", x)
    save("score/scores", scores)


if __name__ == "__main__":
    torch.set_num_threads(1)
    bn_goldens()
    optim_goldens()
    step_goldens()
    step_goldens("logistic", "step_logistic")
    step_goldens("logistic", "step_logistic_hard", hard=0.5)
    step_goldens("logistic", "step_logistic_ascent", ascent=2, ascent_size=0.5)
    step_goldens("logistic", "step_logistic_given", ascent=1, ascent_size=0.1, given="offset")
    step_goldens("logistic", "step_logistic_through", ascent=1, ascent_size=0.1, given="through")
    step_goldens("logistic", "step_logistic_soft_reals", reals_target=0.3)
    # Per-row targets as `train.partialPatches: 'coverage'` gives them (hits / 9).
    step_goldens("logistic", "step_logistic_partial_reals", reals_target=[1 / 9, 4 / 9])
