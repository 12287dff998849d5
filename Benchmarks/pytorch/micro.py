#!/usr/bin/env python3
"""PyTorch side of `autograd-bench micro`: the hot kernels one by one, Float32, at one thread count.

Each id names the same measurement as in Sources/autograd-bench/MicroBenchmarks.swift; keep the two tables in step.
Prints one JSON line: {id: {"us_median", "us_min"}} in microseconds per call.
"""
import argparse
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from timing import micro_timing

W1_PARAMETERS = [(512, 784), (512,), (256, 512), (256,), (10, 256), (10,)]


def binary(a, b, op):
    def make():
        x, y = torch.randn(a), torch.randn(b)
        return lambda: op(x, y)
    return make


def unary(shape, op):
    def make():
        x = torch.randn(shape)
        return lambda: op(x)
    return make


def forward(shape, layer):
    def make():
        module, x = layer(), torch.randn(shape)

        def call():
            with torch.no_grad():
                module(x)
        return call
    return make


def forward_backward(shape, input_grad, layer):
    """Forward and backward from a fixed output gradient; gradients set to None after each call."""
    def make():
        module, x = layer(), torch.randn(shape, requires_grad=input_grad)
        with torch.no_grad():
            seed = torch.randn(module(x).shape)

        def call():
            module(x).backward(seed)
            module.zero_grad(set_to_none=True)
            x.grad = None
        return call
    return make


def convolution(name, shape, input_grad, layer):
    return {f"{name}-fwd": forward(shape, layer), f"{name}-fwd-bwd": forward_backward(shape, input_grad, layer)}


def optimizer_step(shapes, make_optimizer):
    def make():
        parameters = [torch.randn(s, requires_grad=True) for s in shapes]
        for p in parameters:
            p.grad = torch.randn(p.shape)
        optimizer = make_optimizer(parameters)
        return optimizer.step
    return make


def cross_entropy():
    logits = torch.randn(64, 10, requires_grad=True)
    targets = torch.randint(0, 10, (64,))

    def call():
        F.cross_entropy(logits, targets).backward()
        logits.grad = None
    return call


class LSTMOutput(nn.Module):
    """nn.LSTM returning only the output of every step, as the Swift layer's forward(_:) does."""
    def __init__(self, *args, **kwargs):
        super().__init__()
        self.lstm = nn.LSTM(*args, **kwargs)

    def forward(self, x):
        return self.lstm(x)[0]


def matmul():
    a, b = torch.randn(64, 784), torch.randn(784, 512)
    return lambda: torch.mm(a, b)


CASES = {
    "add": binary((64, 128, 14, 14), (64, 128, 14, 14), torch.add),
    "add-channel-broadcast": binary((64, 64, 14, 14), (1, 64, 1, 1), torch.add),
    "mul": binary((64, 128, 14, 14), (64, 128, 14, 14), torch.mul),
    "relu": unary((64, 128, 14, 14), torch.relu),
    "exp": unary((64, 128, 14, 14), torch.exp),
    "tanh": unary((64, 128, 14, 14), torch.tanh),
    "sigmoid": unary((64, 128, 14, 14), torch.sigmoid),
    "leaky-relu": unary((64, 128, 14, 14), lambda x: F.leaky_relu(x, 0.2)),
    "sum-all": unary((64, 128, 14, 14), torch.sum),
    "sum-axes-0-2-3": unary((64, 64, 14, 14), lambda x: x.sum(dim=(0, 2, 3))),
    "sum-to-shape-channel": unary((64, 64, 14, 14), lambda x: x.sum_to_size(1, 64, 1, 1)),
    "sum-to-shape-bias": unary((64, 512), lambda x: x.sum_to_size(512)),
    "mean-last-axis": unary((256, 1000), lambda x: x.mean(dim=1)),
    "softmax-64x10": unary((64, 10), lambda x: torch.softmax(x, dim=-1)),
    "softmax-256x1000": unary((256, 1000), lambda x: torch.softmax(x, dim=-1)),
    "log-softmax-64x10": unary((64, 10), lambda x: torch.log_softmax(x, dim=-1)),
    "log-softmax-256x1000": unary((256, 1000), lambda x: torch.log_softmax(x, dim=-1)),
    "cross-entropy-fwd-bwd": cross_entropy,
    **convolution("conv-1-32-k3", (64, 1, 28, 28), False, lambda: nn.Conv2d(1, 32, 3)),
    **convolution("conv-3-6-k5", (64, 3, 32, 32), False, lambda: nn.Conv2d(3, 6, 5)),
    **convolution("conv-6-16-k5", (64, 6, 14, 14), True, lambda: nn.Conv2d(6, 16, 5)),
    **convolution("conv-1-64-k4s2p1", (64, 1, 28, 28), False, lambda: nn.Conv2d(1, 64, 4, 2, 1)),
    **convolution("conv-64-128-k4s2p1", (64, 64, 14, 14), True, lambda: nn.Conv2d(64, 128, 4, 2, 1)),
    **convolution("conv-transpose-128-64-k4s2p1", (64, 128, 7, 7), True, lambda: nn.ConvTranspose2d(128, 64, 4, 2, 1)),
    "maxpool2-32x26-fwd": forward((64, 32, 26, 26), lambda: nn.MaxPool2d(2)),
    "maxpool2-32x26-fwd-bwd": forward_backward((64, 32, 26, 26), True, lambda: nn.MaxPool2d(2)),
    "maxpool2-6x28-fwd": forward((64, 6, 28, 28), lambda: nn.MaxPool2d(2)),
    "maxpool2-6x28-fwd-bwd": forward_backward((64, 6, 28, 28), True, lambda: nn.MaxPool2d(2)),
    "batchnorm2d-64-train-fwd-bwd": forward_backward((64, 64, 14, 14), True, lambda: nn.BatchNorm2d(64)),
    "adam-step-w1": optimizer_step(W1_PARAMETERS, lambda ps: torch.optim.Adam(ps, lr=1e-3)),
    "adam-step-1m": optimizer_step([(1000, 1000)], lambda ps: torch.optim.Adam(ps, lr=1e-3)),
    "sgd-momentum-step-w1": optimizer_step(W1_PARAMETERS, lambda ps: torch.optim.SGD(ps, lr=1e-3, momentum=0.9)),
    "sgd-momentum-step-1m": optimizer_step([(1000, 1000)], lambda ps: torch.optim.SGD(ps, lr=1e-3, momentum=0.9)),
    "matmul-64x784x512": matmul,
    "topk-8x50257-k50": unary((8, 50257), lambda x: torch.topk(x, 50).values),
    "sort-256x1000": unary((256, 1000), lambda x: torch.sort(x, dim=-1).values),
    "upsample-nearest-x2": unary((16, 64, 32, 32), lambda x: F.interpolate(x, scale_factor=2)),
    "upsample-bilinear-x2": unary((16, 64, 32, 32), lambda x: F.interpolate(x, scale_factor=2, mode="bilinear")),
    "einsum-attention-scores": binary((8, 8, 128, 64), (8, 8, 128, 64), lambda a, b: torch.einsum("bhqd,bhkd->bhqk", a, b)),
    **convolution("conv1d-64-64-k3", (32, 64, 256), True, lambda: nn.Conv1d(64, 64, 3, padding=1)),
    "lstm-2x128-t50-b50-fwd": forward((50, 50, 128), lambda: LSTMOutput(128, 128, 2)),
    "lstm-2x128-t50-b50-fwd-bwd": forward_backward((50, 50, 128), False, lambda: LSTMOutput(128, 128, 2)),
}


def attention(t, backward):
    """F.scaled_dot_product_attention on q, k, v of (12, 4, t, 32); forward under no_grad, or forward and backward."""
    def make():
        shape = (12, 4, t, 32)
        q, k, v = (torch.randn(shape, requires_grad=backward) for _ in range(3))
        seed = torch.randn(shape)

        def call():
            if backward:
                F.scaled_dot_product_attention(q, k, v).backward(seed)
                q.grad = k.grad = v.grad = None
            else:
                with torch.no_grad():
                    F.scaled_dot_product_attention(q, k, v)
        return call
    return make


for _t in (64, 256, 1024):
    CASES[f"attention-t{_t}-fwd"] = attention(_t, False)
    CASES[f"attention-t{_t}-fwd-bwd"] = attention(_t, True)


def causal_attention(t):
    """F.scaled_dot_product_attention(..., is_causal=True) on q, k, v of (12, 4, t, 32), forward and backward."""
    def make():
        shape = (12, 4, t, 32)
        q, k, v = (torch.randn(shape, requires_grad=True) for _ in range(3))
        seed = torch.randn(shape)

        def call():
            F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(seed)
            q.grad = k.grad = v.grad = None
        return call
    return make


for _t in (64, 256):
    CASES[f"attention-t{_t}-causal-fwd-bwd"] = causal_attention(_t)

CASES["layernorm-4096x128-fwd"] = forward((4096, 128), lambda: nn.LayerNorm(128))
CASES["layernorm-4096x128-fwd-bwd"] = forward_backward((4096, 128), True, lambda: nn.LayerNorm(128))
CASES["layernorm-768x128-fwd-bwd"] = forward_backward((768, 128), True, lambda: nn.LayerNorm(128))
CASES["gelu-768x512-fwd"] = forward((768, 512), lambda: nn.GELU())
CASES["gelu-768x512-fwd-bwd"] = forward_backward((768, 512), True, lambda: nn.GELU())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated ids (default: all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    ids = args.cases.split(",")
    unknown = [i for i in ids if i not in CASES]
    if unknown:
        sys.exit(f"micro.py: unknown case(s) {', '.join(unknown)}; MicroBenchmarks.swift and micro.py disagree")
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    print(f"PyTorch kernels: {torch.backends.cpu.get_cpu_capability()}", file=sys.stderr)
    print(json.dumps({i: micro_timing(CASES[i](), args.warmup, args.repeats) for i in ids}))


if __name__ == "__main__":
    main()
