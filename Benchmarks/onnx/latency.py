"""Inference latency of an ONNX model in onnxruntime on one thread: median milliseconds per call of a float32
input of each batch size. Used by `autograd-bench onnx`; prints JSON {"batch": ms, ...}.

    python3 latency.py MODEL.onnx --shape 1,28,28 --batches 1,64 --samples 200
"""
import argparse, json, time

import numpy
import onnxruntime

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("--shape", default="1,28,28", help="the input's shape without the batch axis")
parser.add_argument("--batches", default="1,64")
parser.add_argument("--samples", type=int, default=200)
args = parser.parse_args()

options = onnxruntime.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
session = onnxruntime.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
name = session.get_inputs()[0].name
shape = [int(s) for s in args.shape.split(",")]
result = {}
for batch in (int(b) for b in args.batches.split(",")):
    x = numpy.random.default_rng(0).random([batch] + shape, dtype=numpy.float32)
    for _ in range(args.samples // 10 + 1):
        session.run(None, {name: x})
    times = []
    for _ in range(args.samples):
        t0 = time.perf_counter()
        session.run(None, {name: x})
        times.append(time.perf_counter() - t0)
    result[str(batch)] = sorted(times)[len(times) // 2] * 1e3
print(json.dumps(result))
