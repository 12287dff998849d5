"""PyTorch's rows of example-compress's table: the Swift-trained W2 teacher (safetensors, the same names) loaded
into the equivalent torch model, then torch.ao.quantization.quantize_dynamic on its Linear layers; eager-mode
static post-training quantisation (x86 backend, its default qconfig: histogram observer with reduce_range on the
activations, per-channel symmetric weights), calibrated on the first --calibration-images training images, once
for the convolution only with the Linear layers dynamic (what the Swift row does) and once for every layer with
conv+ReLU and linear+ReLU fused (PyTorch's usual recipe); prune.global_unstructured (L1) to the same sparsity
without fine-tuning (torch's one-shot pruning; the Swift row fine-tunes while pruning); and, with
--channel-pruned, the Swift channel-pruned teacher (fewer convolution channels) loaded into a torch model of its
width (torch's ln_structured only masks channels; it has no step that makes the model smaller). Prints a JSON list
of rows on stdout: model, nonzero, parameters, bytes (torch.save of the state dict), accuracy, latency1 and
latency64 (median ms per forward pass on one thread).

    python3 Benchmarks/pytorch/compress.py --teacher out/compress/teacher.safetensors
"""
import argparse, copy, gzip, io, json, os, struct, sys, tempfile, time

import warnings

import numpy as np
import torch
import torch.nn.utils.prune as prune
from safetensors.torch import load_file


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def teacher(channels=32):
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, channels, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(channels * 13 * 13, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))


def calibrated(model, calibration):
    """Eager-mode static quantisation: prepare (observers where a qconfig is set), calibration passes, convert."""
    torch.ao.quantization.prepare(model, inplace=True)
    with torch.inference_mode():
        for i in range(0, len(calibration), 64):
            model(calibration[i:i + 64])
    return torch.ao.quantization.convert(model, inplace=True)


def static_conv(model, calibration, qconfig):
    """The convolution static (between a QuantStub and a DeQuantStub), the Linear layers dynamic: the Swift row."""
    layers = list(copy.deepcopy(model))
    quantized = torch.nn.Sequential(torch.ao.quantization.QuantStub(), layers[0], torch.ao.quantization.DeQuantStub(),
                                    *layers[1:]).eval()
    for i in range(3):
        quantized[i].qconfig = qconfig
    calibrated(quantized, calibration)
    return torch.ao.quantization.quantize_dynamic(quantized, {torch.nn.Linear}, dtype=torch.qint8)


def static_all(model, calibration, qconfig):
    """Every layer static, conv+ReLU and linear+ReLU fused: PyTorch's usual eager-mode recipe."""
    layers = list(copy.deepcopy(model))
    quantized = torch.nn.Sequential(torch.ao.quantization.QuantStub(), *layers, torch.ao.quantization.DeQuantStub()).eval()
    torch.ao.quantization.fuse_modules(quantized, [["1", "2"], ["5", "6"]], inplace=True)
    quantized.qconfig = qconfig
    return calibrated(quantized, calibration)


def latency(model, x, repeats):
    times = []
    with torch.inference_mode():
        for i in range(repeats + 2):
            start = time.perf_counter()
            model(x)
            if i >= 2:
                times.append((time.perf_counter() - start) * 1e3)
    return sorted(times)[len(times) // 2]


def row(name, model, images, labels, repeats):
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    nonzero = total = 0
    for key, value in model.state_dict().items():
        if not isinstance(value, torch.Tensor) or key.endswith("_mask") or key.endswith("scale") or key.endswith("zero_point"):
            continue
        value = value.dequantize() if value.is_quantized else value
        if value.is_floating_point():
            nonzero += int((value != 0).sum())
            total += value.numel()
    # Quantised Linear weights (dynamic, static, fused with ReLU) live in packed parameters, not plain tensors.
    for module in model.modules():
        if isinstance(module, torch.ao.nn.quantized.Linear):
            w, b = module._packed_params._weight_bias()
            nonzero += int((w.dequantize() != 0).sum()) + (int((b != 0).sum()) if b is not None else 0)
            total += w.numel() + (b.numel() if b is not None else 0)
    with torch.inference_mode():
        predicted = torch.cat([model(images[i:i + 500]).argmax(1) for i in range(0, len(images), 500)])
    return {"model": name, "nonzero": nonzero, "parameters": total, "bytes": len(buffer.getvalue()),
            "accuracy": float((predicted == labels).float().mean()),
            "latency1": latency(model, images[:1], repeats), "latency64": latency(model, images[:64], repeats)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--teacher", required=True)
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--test-limit", type=int)
    parser.add_argument("--sparsity", type=float, default=0.9)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--channel-pruned", help="the Swift channel-pruned teacher's safetensors")
    parser.add_argument("--calibration-images", type=int, default=1024)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)   # quantized tensors' deprecation notice
    warnings.filterwarnings("ignore", category=DeprecationWarning)   # torch.ao.quantization's, on every call
    images = torch.from_numpy(idx(os.path.join(args.data_dir, "t10k-images-idx3-ubyte.gz")).copy()).float().div(255)
    labels = torch.from_numpy(idx(os.path.join(args.data_dir, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))
    if args.test_limit:
        images, labels = images[:args.test_limit], labels[:args.test_limit]
    images = images.unsqueeze(1)

    model = teacher()
    model.load_state_dict(load_file(args.teacher), strict=True)
    model.eval()
    rows = [row("PyTorch teacher (Float)", model, images, labels, args.repeats)]
    quantized = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    rows.append(row("PyTorch quantize_dynamic (Linear)", quantized, images, labels, args.repeats))

    torch.backends.quantized.engine = "x86"
    qconfig = torch.ao.quantization.get_default_qconfig("x86")
    train = idx(os.path.join(args.data_dir, "train-images-idx3-ubyte.gz"))[:args.calibration_images]
    calibration = torch.from_numpy(train.copy()).float().div(255).unsqueeze(1)
    rows.append(row("PyTorch static conv + dynamic Linear", static_conv(model, calibration, qconfig), images, labels,
                    args.repeats))
    rows.append(row("PyTorch static all layers (fused)", static_all(model, calibration, qconfig), images, labels,
                    args.repeats))

    pruned = teacher()
    pruned.load_state_dict(model.state_dict())
    pruned.eval()
    targets = [(m, "weight") for m in pruned if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured,
                                            amount=args.sparsity)
    for module, name in targets:
        prune.remove(module, name)
    rows.append(row(f"PyTorch pruned {round(args.sparsity * 100)}% one-shot", pruned, images, labels, args.repeats))

    if args.channel_pruned:
        state = load_file(args.channel_pruned)
        channels = state["0.weight"].shape[0]
        smaller = teacher(channels)
        smaller.load_state_dict(state, strict=True)
        smaller.eval()
        rows.append(row(f"PyTorch {channels}/32 channels (Swift's)", smaller, images, labels, args.repeats))
    json.dump(rows, sys.stdout)


if __name__ == "__main__":
    main()
