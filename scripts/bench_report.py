#!/usr/bin/python3
"""Prints the ratios of benchmark runs (the JSON lines written by bench_pytorch.py and TorchInit.Benchmarks).

    bench_report.py RUN.jsonl [RUN2.jsonl ...]

A case found more than once (several files, or several runs appended to one file by bench.sh --runs) is a
run each time: each figure is the median over the runs of that run's figure (each run's own figure is
already the median of its repetitions); peak memory is the largest.
"""
import json
import statistics
import sys

rows = [json.loads(line) for path in sys.argv[1:] for line in open(path) if line.strip()]
runs = {}
for r in rows:
    runs.setdefault((r["impl"], r["size"], r["case"]), []).append(r)


def combine(group):
    out = dict(group[0])
    for key in ("median_s", "min_s", "paired_time_ratio"):
        if key in out:
            out[key] = statistics.median(r[key] for r in group)
    if "median_s" in out:
        out["melem_per_s"] = out["elements"] / out["median_s"] / 1e6
        out["min_s"] = min(r["min_s"] for r in group)
        out["peak_delta_mib"] = max(r["peak_delta_mib"] for r in group)
    if "value" in out:   # profile rows: a rate (or the clock) and cycles per element
        out["value"] = statistics.median(r["value"] for r in group)
        cycles = [float(r["cycles_per_element"]) for r in group if r.get("cycles_per_element")]
        out["cycles_per_element"] = statistics.median(cycles) if cycles else None
    out["runs"] = len(group)
    return out


R = {key: combine(group) for key, group in runs.items()}
n_runs = max(len(group) for group in runs.values())
if n_runs > 1:
    print(f"# {n_runs} runs: each figure is the median over the runs of each run's median\n")
sizes = [s for s in dict.fromkeys(r["size"] for r in rows) if s not in ("2000xLinear16", "profile")]

o = R.get(("torchsharp", "2000xLinear16", "overhead.exact.normal"))
d = R.get(("torchsharp", "2000xLinear16", "overhead.libtorch.normal"))
if o and d:
    per_layer = (o["median_s"] - d["median_s"]) / 2000 * 1e6
    print(f"## ApplyInit overhead: 2000 x Linear(16, 16): libtorch loop {d['median_s'] * 1e3:.1f} ms, ApplyInit "
          f"{o['median_s'] * 1e3:.1f} ms (paired ratio {o['paired_time_ratio']:.2f}) -> {per_layer:.1f} us per layer")
    for size in sizes:
        r = R.get(("torchsharp", size, "exact.normal"))
        if r:
            layers = {"1M": 4, "10M": 10, "100M": 25, "1B": 16}.get(size, 0)
            print(f"   {size}: {layers} layers x {per_layer:.1f} us = {layers * per_layer / 1e3:.2f} ms = "
                  f"{layers * per_layer / 1e6 / r['median_s']:.3%} of exact.normal")
    print()


def rate(impl, size, case):
    r = R.get((impl, size, case))
    return r["melem_per_s"] if r else float("nan")


def peak(impl, size, case):
    r = R.get((impl, size, case))
    return r["peak_delta_mib"] if r else float("nan")


for size in sizes:
    print(f"## {size} (M parameters/s; ratio = TorchSharp / PyTorch in this run)")
    pt_fill, ts_fill = rate("pytorch", size, "fill"), rate("torchsharp", size, "fill")
    print(f"  fill_ (write limit): PyTorch {pt_fill:8.0f}   TorchSharp {ts_fill:8.0f}")
    print("  exact/lt = paired median of ApplyInit exact time / libtorch-loop time (interleaved runs; < 1 is noise)")
    print("  kernels = fast mode's kernels called directly per parameter (no visitor, report or checks); "
          "fast1t = fast mode on one thread")
    print(f"  {'dist':8s} {'PyTorch':>8s} {'libtorch':>9s} {'exact':>8s} {'exact/lt':>9s} {'+stats':>8s} "
          f"{'fast':>8s} {'kernels':>8s} {'fast1t':>8s} {'+stats':>8s} {'fast/PT':>8s} {'exact/PT':>9s} {'fill/fast':>9s} {'peak MiB':>9s}")
    for dist in ["normal", "uniform", "trunc"]:
        pt = rate("pytorch", size, f"init.{dist}")
        lt, ex, exs = (rate("torchsharp", size, f"{c}.{dist}") for c in ("libtorch", "exact", "exact+stats"))
        fa, fk, fa1, fas = (rate("torchsharp", size, f"{c}.{dist}") for c in ("fast", "kernels", "fast1", "fast+stats"))
        if all(x != x for x in (pt, ex, fa)):
            continue
        pk = max(peak("torchsharp", size, f"exact.{dist}"), peak("torchsharp", size, f"fast.{dist}"))
        er = R.get(("torchsharp", size, f"exact.{dist}"))
        pr = er["paired_time_ratio"] if er and "paired_time_ratio" in er else float("nan")
        print(f"  {dist:8s} {pt:8.0f} {lt:9.0f} {ex:8.0f} {pr:9.3f} {exs:8.0f} {fa:8.0f} {fk:8.0f} {fa1:8.0f} {fas:8.0f} "
              f"{fa / pt:8.1f}x {ex / pt:8.2f}x {ts_fill / fa:8.1f}x {pk:9.1f}")
    c = {k: R.get(("torchsharp", size, k)) for k in ("construct", "construct+init.exact.normal", "build.exact.normal",
                                                         "construct+init.fast.normal", "build.fast.normal")}
    p = {k: R.get(("pytorch", size, k)) for k in ("construct", "construct+init.normal", "meta+init.normal")}
    if any(c.values()) or any(p.values()):
        print("  construction + init (HeNormal), seconds (peak MiB):")
        for name, r in list(p.items()) + list(c.items()):
            if r:
                impl = "PyTorch   " if r["impl"] == "pytorch" else "TorchSharp"
                print(f"    {impl} {name:30s} {r['median_s']:8.3f} s  ({r['peak_delta_mib']:.0f} MiB)")
        a, b = c.get("construct+init.exact.normal"), c.get("build.exact.normal")
        if a and b:
            print(f"    Build.WithoutDefaultInit saves {1 - b['median_s'] / a['median_s']:.0%} (exact); ", end="")
        a, b = c.get("construct+init.fast.normal"), c.get("build.fast.normal")
        if a and b:
            print(f"{1 - b['median_s'] / a['median_s']:.0%} (fast)")
        q = p.get("construct+init.normal")
        if q and b:
            print(f"    build.fast vs PyTorch construct+init: {q['median_s'] / b['median_s']:.1f}x faster")
    print()

prof = [r for r in R.values() if r["size"] == "profile"]
if prof:
    print("## fast mode profile (one thread unless the name says otherwise; M elements/s, cycles per element per thread)")
    for r in prof:
        c = r.get("cycles_per_element")
        if r["case"] == "clock.ghz":
            print(f"  {'core clock (imul chain)':34s} {r['value']:8.2f} GHz")
        elif r["case"].startswith("scaling"):
            print(f"  {r['case']:34s} {r['value']:8.2f}x the work of one thread")
        else:
            print(f"  {r['case']:34s} {r['value']:8.0f} M/s  {c:6.2f} cycles" if c is not None else f"  {r['case']:34s} {r['value']:8.0f}")

