#!/usr/bin/env python3
"""PyTorch side of example-text: the same GPT (W7) trained on the same split with the same hyper-parameters.

    python3 Benchmarks/pytorch/text_models.py [--steps 2000] [--threads 2] [--text FILE]

What matches `swift run -c release example-text` (see Examples/example-text):
- corpus: the fortunes files by the rule of `TextCorpus.fortunes` (or --text), characters = Unicode scalars,
  vocabulary sorted(set(text)), the first int(0.9 * n) tokens for training, the rest for validation;
- model: token + learned position embeddings (N(0, 0.02)), nn.TransformerEncoder of 4
  nn.TransformerEncoderLayer(128, 4, 512, dropout 0, gelu, batch_first, norm_first) with a final LayerNorm, causal,
  output head tied to the token embedding; each layer initialised independently (as the Swift model builds them);
  state-dict keys wte.weight, wpe.weight, encoder.layers.N.*, encoder.norm.* — the Swift checkpoint's names;
- training: batch 12 of random 64-token windows, AdamW lr 1e-3, betas (0.9, 0.99), weight decay 0.1 on matrices
  only, 100 linear warm-up steps then a cosine to 1e-4 at the last step, gradient clipping 1.0;
- validation: the same fixed windows (the 64-token tiles of the validation text, 480 of them spread evenly),
  every 200 steps and at the end.
The random batches differ (torch's generator, not the Swift DataLoader's), so compare the validation losses,
not step-by-step values. Prints the validation losses, ms per step (median) and tokens per second.

    python3 Benchmarks/pytorch/text_models.py --generate 256 [--threads 1]

times generation instead (batch 1, a one-token prompt, 256 new tokens, top-k 40 sampling; the model of the same
sizes, untrained, since the rate does not depend on the weights). nn.TransformerEncoder has no key/value cache, so
each new token reruns the window of the last `context` tokens, as nanoGPT's generate does; example-text's
`--generate` runs each new token alone against the cache.
"""
import argparse
import math
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

FORTUNES = "/usr/share/games/fortunes"


def fortunes_text(directory=FORTUNES):
    names = sorted(n for n in os.listdir(directory) if not n.endswith((".dat", ".u8"))
                   and os.path.isfile(os.path.join(directory, n)) and not os.path.islink(os.path.join(directory, n)))
    return "".join(open(os.path.join(directory, n), encoding="utf-8").read() for n in names)


class GPT(nn.Module):
    def __init__(self, vocab, context=64, layers=4, heads=4, width=128):
        super().__init__()
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Embedding(context, width)
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.02)
        layer = nn.TransformerEncoderLayer(width, heads, 4 * width, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(width), enable_nested_tensor=False)
        for block in self.encoder.layers:  # TransformerEncoder deep-copies one layer; draw each afresh
            block.self_attn._reset_parameters()
            block.linear1.reset_parameters()
            block.linear2.reset_parameters()

    def forward(self, idx):
        t = idx.shape[1]
        h = self.wte(idx) + self.wpe(torch.arange(t))
        mask = nn.Transformer.generate_square_subsequent_mask(t)
        h = self.encoder(h, mask=mask, is_causal=True)
        return h @ self.wte.weight.T


def learning_rate(step, steps, peak, warmup):
    """nanoGPT's get_lr: step k of the warm-up at (k+1)/(n+1) of the peak, then a cosine to peak/10."""
    warmup = max(min(warmup, steps - 1), 1)
    if step < warmup:
        return peak * (step + 1) / (warmup + 1)
    ratio = (step - warmup) / max(steps - warmup, 1)
    return peak / 10 + (peak - peak / 10) * (1 + math.cos(math.pi * ratio)) / 2


def validation_windows(tokens, context, count):
    tiles = (len(tokens) - context - 1) // context + 1
    n = min(count, tiles)
    starts = [(j * tiles // n) * context for j in range(n)]
    x = torch.stack([tokens[s:s + context] for s in starts])
    y = torch.stack([tokens[s + 1:s + context + 1] for s in starts])
    return x, y


@torch.no_grad()
def evaluate(model, x, y):
    model.eval()
    total = 0.0
    for i in range(0, len(x), 48):
        logits = model(x[i:i + 48])
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[i:i + 48].reshape(-1)).item() * len(x[i:i + 48])
    model.train()
    return total / len(x)


@torch.no_grad()
def generation_rate(vocab, context, count, repeats=3):
    model = GPT(vocab, context).eval()
    best = float("inf")
    for _ in range(repeats):
        idx = torch.zeros((1, 1), dtype=torch.long)
        begin = time.perf_counter()
        for _ in range(count):
            logits = model(idx[:, -context:])[:, -1, :] / 0.8
            top = torch.topk(logits, 40).values[:, -1:]
            logits[logits < top] = -float("inf")
            idx = torch.cat([idx, torch.multinomial(F.softmax(logits, dim=-1), 1)], dim=1)
        best = min(best, time.perf_counter() - begin)
    return count / best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", help="a UTF-8 file instead of the fortunes corpus")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=12)
    parser.add_argument("--context", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--generate", type=int, help="time generating N tokens (batch 1) instead of training")
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    text = open(a.text, encoding="utf-8").read() if a.text else fortunes_text()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([index[c] for c in text], dtype=torch.long)
    n = int(len(data) * 0.9)
    train, val = data[:n], data[n:]
    if a.generate:
        rate = generation_rate(len(chars), a.context, a.generate)
        print(f"generation: {a.generate} tokens, batch 1, vocabulary {len(chars)}, {a.threads} thread(s): "
              f"{rate:.0f} tokens/s (best of 3); torch {torch.__version__}")
        return
    vx, vy = validation_windows(val, a.context, 480)
    print(f"{len(text)} characters, vocabulary {len(chars)}; {len(train)} training, {len(val)} validation tokens "
          f"({len(vx)} windows evaluated); torch {torch.__version__}, {a.threads} thread(s)")

    model = GPT(len(chars), a.context)
    params = list(model.parameters())
    optimizer = torch.optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
                                   {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}],
                                  lr=a.lr, betas=(0.9, 0.99))
    print(f"gpt: {sum(p.numel() for p in params)} parameters")
    times = []
    start = time.perf_counter()
    for step in range(a.steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, a.steps, a.lr, a.warmup)
        begin = time.perf_counter()
        ix = torch.randint(len(train) - a.context, (a.batch_size,))
        x = torch.stack([train[i:i + a.context] for i in ix])
        y = torch.stack([train[i + 1:i + a.context + 1] for i in ix])
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        times.append(time.perf_counter() - begin)
        if (step + 1) % a.eval_every == 0 or step + 1 == a.steps:
            print(f"step {step + 1}: train loss {loss.item():.4f}, validation loss {evaluate(model, vx, vy):.4f}", flush=True)
    elapsed = time.perf_counter() - start
    print(f"{statistics.median(times) * 1e3:.1f} ms per step (median), "
          f"{a.steps * a.batch_size * a.context / elapsed:.0f} tokens/s including evaluation, {elapsed:.0f} s")


if __name__ == "__main__":
    main()
