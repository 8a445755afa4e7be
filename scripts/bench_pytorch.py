#!/usr/bin/python3
"""The PyTorch side of TorchInit's benchmarks (see BENCHMARKS.md): the same models and cases as
benchmarks/TorchInit.Benchmarks, timed in-process, median of --reps after one warm-up on a 1M-parameter model.

    /usr/bin/python3 scripts/bench_pytorch.py [--sizes 10M,100M,1B] [--reps 5] [--dists normal,uniform,trunc]
                                              [--cases fill,init,build] [--threads N] [--json FILE]

PyTorch runs with --threads intra-op threads, by default every core (os.cpu_count()): Debian's PyTorch 1.13
starts with fewer on some machines (1 on the 2-core benchmark machine), which would understate it.

Throughput is parameters (weights and biases) per second; peak memory is VmHWM during the case minus VmRSS
before it (the high-water mark is reset through /proc/self/clear_refs before each case).
"""
import argparse
import gc
import json
import math
import os
import statistics
import time

import torch
import torch.nn as nn

SHAPES = {"1M": (4, 500), "10M": (10, 1000), "100M": (25, 2000), "1B": (16, 8000)}


def model(size, device=None):
    layers, width = SHAPES[size]
    return nn.Sequential(*[nn.Linear(width, width, device=device) for _ in range(layers)])


def init_(m, dist):
    """What TorchInit's schemes correspond to in torch.nn.init: HeNormal, GlorotUniform, HeTruncatedNormal."""
    with torch.no_grad():
        for layer in m:
            w = layer.weight
            if dist == "normal":
                nn.init.kaiming_normal_(w, nonlinearity="relu")
            elif dist == "uniform":
                nn.init.xavier_uniform_(w)
            else:
                s = math.sqrt(2.0) / math.sqrt(w.shape[1]) / 0.87962566103423978
                nn.init.trunc_normal_(w, 0.0, s, -2 * s, 2 * s)
            nn.init.zeros_(layer.bias)


def rss(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def case(args, size, elements, name, fn, quiet):
    gc.collect()
    reset_peak()
    before = rss("VmRSS:")
    times = []
    for _ in range(args.reps):
        torch.manual_seed(1)
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        gc.collect()
    peak = rss("VmHWM:")
    times.sort()
    median = statistics.median(times) if len(times) % 2 else times[len(times) // 2]
    rate = elements / median / 1e6
    if quiet:
        return
    print(f"{name:30s} {rate:10.0f} M/s   median {median:8.3f} s   min {times[0]:8.3f} s   "
          f"peak +{(peak - before) / 1048576:8.1f} MiB (RSS before {before / 1048576:.0f} MiB)", flush=True)
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps({
                "impl": "pytorch", "size": size, "case": name, "elements": elements,
                "median_s": median, "min_s": times[0], "melem_per_s": rate,
                "peak_delta_mib": (peak - before) / 1048576, "rss_before_mib": before / 1048576,
                "threads": torch.get_num_threads(), "reps": args.reps,
                "loadavg": open("/proc/loadavg").read().split()[0],
            }) + "\n")


def run(args, quiet):
    for size in args.sizes.split(","):
        layers, width = SHAPES[size]
        elements = layers * width * (width + 1)
        if not quiet:
            print(f"\n## {size}: {layers} x Linear({width}, {width}), {elements:,} parameters, "
                  f"{elements * 4 / 1e9:.2f} GB float32", flush=True)
        cases = args.cases.split(",")
        if "build" in cases:
            case(args, size, elements, "construct", lambda: model(size), quiet)
            case(args, size, elements, "construct+init.normal", lambda: init_(model(size), "normal"), quiet)

            def meta():
                m = model(size, device="meta").to_empty(device="cpu")
                init_(m, "normal")
            case(args, size, elements, "meta+init.normal", meta, quiet)
        m = model(size, device="meta").to_empty(device="cpu")
        if "fill" in cases:
            def fill():
                with torch.no_grad():
                    for p in m.parameters():
                        p.fill_(0.5)
            case(args, size, elements, "fill", fill, quiet)
        if "init" in cases:
            for dist in args.dists.split(","):
                case(args, size, elements, f"init.{dist}", lambda: init_(m, dist), quiet)
        del m


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10M,100M")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--dists", default="normal,uniform,trunc")
    p.add_argument("--cases", default="fill,init,build")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--json")
    args = p.parse_args()
    default_threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    print(f"# PyTorch {torch.__version__}: {os.cpu_count()} cores, torch threads {torch.get_num_threads()} "
          f"(default here {default_threads})", flush=True)
    warm = argparse.Namespace(**{**vars(args), "sizes": "1M", "reps": 1, "json": None})
    run(warm, quiet=True)
    run(args, quiet=False)


if __name__ == "__main__":
    main()
