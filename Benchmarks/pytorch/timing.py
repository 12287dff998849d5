"""Timing loops shared by workloads.py and micro.py (the same method as Sources/autograd-bench/Measurement.swift)."""
import time


def sorted_durations(fn, warmup, samples, calls_per_sample=1):
    """Seconds per call of fn, one entry per sample, fastest first: warmup untimed calls, then samples timed
    samples of calls_per_sample back-to-back calls each."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(calls_per_sample):
            fn()
        times.append((time.perf_counter() - t0) / calls_per_sample)
    return sorted(times)


def micro_timing(fn, warmup, samples, sample_seconds=1e-3):
    """{"us_median", "us_min"} of a short call: warmup (at least 1) untimed calls, the fastest of which sets how many
    calls make one sample (about sample_seconds long), then samples timed samples."""
    estimate = sorted_durations(fn, 0, max(1, warmup))[0]
    calls = max(1, min(10_000, int(sample_seconds / max(estimate, 1e-9))))
    times = sorted_durations(fn, 0, samples, calls)
    return {"us_median": times[samples // 2] * 1e6, "us_min": times[0] * 1e6}
