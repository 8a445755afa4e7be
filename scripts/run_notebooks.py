#!/usr/bin/env python3
"""Runs notebooks in the real .NET Interactive C# kernel (dotnet-repl, a local tool pinned in .config/dotnet-tools.json)
and stores what the kernel produced as the notebooks' outputs.

    python3 scripts/run_notebooks.py [--no-write] NOTEBOOK...

For each notebook: runs a copy with one extra, last cell that fails when the kernel process has any libtorch or libc10
mapped other than TorchSharp-cpu's own (NuGet's libtorch-cpu-linux-x64), i.e. when a system libtorch such as Debian's
python3-torch shadowed it; fails on a non-zero exit or any cell error (cell number, error); checks that the outputs hold
the HTML tables TorchInit's kernel extension renders (REQUIRED_HTML); then, unless --no-write, writes the kernel's outputs
back, with the extra cell removed, a stable id per cell (nbformat 4.5), execution counts 1..n, and without the
transient "Installing Packages" progress, machine paths and run timestamps. With --no-write it also checks that the
committed notebook holds kernel outputs (every cell has an id, every code cell its outputs).
"""
import hashlib, json, os, subprocess, sys, tempfile

# The HTML the kernel extension must produce in each notebook (an InitReport, its decisions, a SignalReport as a cell's value).
REQUIRED_HTML = {
    "01-quick-start": ['<table class="torchinit-report">'],
    "02-why-initialization-matters": ['<table class="torchinit-signal">'],
    "03-auto-policy": ['<table class="torchinit-report">', '<table class="torchinit-decisions">'],
}

NATIVE_CHECK = r'''// Added by scripts/run_notebooks.py, not stored: TorchSharp must run on its own libtorch, not a system one.
var torchInitMapped = System.Linq.Enumerable.ToList(System.Linq.Enumerable.Distinct(System.Linq.Enumerable.Where(
    System.Linq.Enumerable.Select(System.IO.File.ReadLines("/proc/self/maps"), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]),
    p => System.IO.Path.GetFileName(p).StartsWith("libtorch") || System.IO.Path.GetFileName(p).StartsWith("libc10"))));
if (torchInitMapped.Count == 0 || System.Linq.Enumerable.Any(torchInitMapped, p => !p.Contains("/libtorch-cpu-linux-x64/")))
    throw new Exception("libtorch is not TorchSharp-cpu's own: " + string.Join(", ", torchInitMapped));
'''


def text(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def cell_id(stem, index, source):
    return hashlib.sha1(f"{stem}:{index}:{source}".encode()).hexdigest()[:12]


def transient(output):
    data = output.get("data", {})
    html, plain = text(data.get("text/html")), text(data.get("text/plain"))
    return "<strong>Installing Packages</strong>" in html or plain.startswith("Loading extension")


def run(path, write, repl):
    stem = os.path.splitext(os.path.basename(path))[0]
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    failures = []
    if not write:
        for i, c in enumerate(nb["cells"]):
            if "id" not in c:
                failures.append(f"cell {i + 1} has no id (run: bash scripts/notebooks.sh)")
            if c["cell_type"] == "code" and text(c["source"]).strip() and not c.get("outputs") and not c.get("execution_count"):
                failures.append(f"code cell {i + 1} was not run by the kernel (run: bash scripts/notebooks.sh)")
    with tempfile.TemporaryDirectory() as tmp:
        probe = json.loads(json.dumps(nb))
        probe["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {"polyglot_notebook": {"kernelName": "csharp"}},
                               "outputs": [], "source": NATIVE_CHECK})
        src, out = os.path.join(tmp, stem + ".ipynb"), os.path.join(tmp, stem + ".out.ipynb")
        with open(src, "w", encoding="utf-8") as f:
            json.dump(probe, f)
        proc = subprocess.run(repl + ["--run", src, "--exit-after-run", "--output-path", out], capture_output=True, text=True)
        if not os.path.exists(out):
            print(proc.stdout[-4000:], proc.stderr[-4000:], file=sys.stderr)
            raise SystemExit(f"{path}: the kernel wrote no output notebook (exit {proc.returncode})")
        with open(out, encoding="utf-8") as f:
            ran = json.load(f)
    cells = ran["cells"]
    if len(cells) != len(probe["cells"]):
        raise SystemExit(f"{path}: the kernel returned {len(cells)} cells for {len(probe['cells'])}")
    for i, c in enumerate(cells):
        for o in c.get("outputs", []):
            if o.get("output_type") == "error":
                where = "the libtorch check" if i == len(cells) - 1 else f"cell {i + 1}"
                failures.append(f"{where}: {o.get('ename')}: {o.get('evalue')}")
    if proc.returncode != 0 and not failures:
        failures.append(f"dotnet-repl exited {proc.returncode}: {proc.stderr[-2000:]}")
    html = "".join(text(o.get("data", {}).get("text/html")) for c in cells for o in c.get("outputs", []))
    for marker in REQUIRED_HTML.get(stem, []):
        if marker not in html:
            failures.append(f"no {marker} in the outputs: the TorchInit kernel extension's formatter did not run")
    if failures:
        for m in failures:
            print(f"{path}: {m}", file=sys.stderr)
        return False
    stored, count = [], 0
    for i, (orig, c) in enumerate(zip(nb["cells"], cells[:-1])):
        new = {"cell_type": orig["cell_type"], "id": orig.get("id") or cell_id(stem, i, text(orig["source"])),
               "metadata": {k: v for k, v in orig.get("metadata", {}).items() if not k.startswith("dotnet_repl_")},
               "source": orig["source"]}
        if orig["cell_type"] == "code":
            count += 1
            new["execution_count"] = count
            new["outputs"] = [o for o in c.get("outputs", []) if not transient(o)]
            for o in new["outputs"]:
                if o.get("output_type") == "execute_result":
                    o["execution_count"] = count
        stored.append(new)
    nb["cells"] = stored
    nb["nbformat"], nb["nbformat_minor"] = 4, 5
    if write:
        with open(path, "w", encoding="utf-8") as f:
            f.write(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    print(f"{path}: ok ({count} code cells, in the .NET Interactive kernel; TorchSharp on its own libtorch)")
    return True


def main():
    args = sys.argv[1:]
    write = "--no-write" not in args
    paths = [a for a in args if not a.startswith("--")]
    repl = ["dotnet", "tool", "run", "dotnet-repl", "--"]
    ok = all([run(p, write, repl) for p in paths])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
