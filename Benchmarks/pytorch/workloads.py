#!/usr/bin/env python3
"""PyTorch side of the swift-autograd benchmarks (WORKLOADS.md): one workload, one thread count.

Prints one JSON line: {"workload", "threads", "ms_median", "peak_rss_mb"} for W1-W4, W4b, W7 and W8, or
{"workload": "W5", "threads", "gflops": {n: GFLOP/s}} for the matmul workload.
"""
import argparse
import json
import resource

import torch
import torch.nn as nn
import torch.nn.functional as F

from timing import sorted_durations


def w1():
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.rand(64, 784), torch.randint(0, 10, (64,))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def w2():
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(5408, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def w3():
    model = nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    x, y = torch.rand(64, 3, 32, 32), torch.randint(0, 10, (64,))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def w4():
    class Reshape(nn.Module):
        def forward(self, x):
            return x.view(-1, 128, 7, 7)
    g = nn.Sequential(nn.Linear(100, 6272), nn.BatchNorm1d(6272), nn.ReLU(), Reshape(),
                      nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                      nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128),
                      nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(6272, 1))
    og = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(64, 1, 28, 28) * 2 - 1
    ones, zeros = torch.ones(64, 1), torch.zeros(64, 1)

    def step():
        z = torch.randn(64, 100)
        fake = g(z)
        od.zero_grad()
        loss_d = (F.binary_cross_entropy_with_logits(d(real), ones)
                  + F.binary_cross_entropy_with_logits(d(fake.detach()), zeros))
        loss_d.backward()
        od.step()
        og.zero_grad()
        F.binary_cross_entropy_with_logits(d(fake), ones).backward()
        og.step()
    return step


def w4b():
    d = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(6272, 1, bias=False))
    od = torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.5, 0.9))
    real = torch.rand(64, 1, 28, 28) * 2 - 1
    fake = torch.rand(64, 1, 28, 28) * 2 - 1

    def step():
        eps = torch.rand(64, 1, 1, 1)
        od.zero_grad()
        interpolates = (eps * real + (1 - eps) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(d(interpolates).sum(), [interpolates], create_graph=True)
        norms = (grad.reshape(64, -1).square().sum(1) + 1e-12).sqrt()
        penalty = (norms - 1).square().mean() * 10
        loss = d(fake).mean() - d(real).mean() + penalty
        loss.backward()
        od.step()
    return step


def time_steps(step, warmup, steps):
    return sorted_durations(step, warmup, steps)[steps // 2] * 1e3


def matmul_gflops(sizes, repeats):
    out = {}
    for n in sizes:
        a, b = torch.randn(n, n), torch.randn(n, n)
        best = sorted_durations(lambda: torch.mm(a, b), 1, repeats)[0]
        out[str(n)] = 2 * n ** 3 / best / 1e9
    return out


def w7():
    from text_models import GPT
    model = GPT(113)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    x, y = torch.randint(0, 113, (12, 64)), torch.randint(0, 113, (12 * 64,))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x).reshape(-1, 113), y).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return step


def w8():
    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding, self.lstm, self.head = nn.Embedding(113, 128), nn.LSTM(128, 128, 2, batch_first=True), nn.Linear(128, 113)

        def forward(self, x):
            return self.head(self.lstm(self.embedding(x))[0])
    model = CharLSTM()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    x, y = torch.randint(0, 113, (50, 50)), torch.randint(0, 113, (50 * 50,))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x).reshape(-1, 113), y).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
    return step


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workload", required=True, choices=["W1", "W2", "W3", "W4", "W4b", "W5", "W7", "W8"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    result = {"workload": args.workload, "threads": args.threads}
    if args.workload == "W5":
        result["gflops"] = matmul_gflops([256, 1024, 2048], repeats=max(3, args.steps // 20))
    else:
        step = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W4b": w4b, "W7": w7, "W8": w8}[args.workload]()
        result["ms_median"] = time_steps(step, args.warmup, args.steps)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
