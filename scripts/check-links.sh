#!/usr/bin/env bash
# Fails (exit 1, one 'file:line: ...' per problem) when the documentation points at something that is not in the repository:
#   - a relative Markdown link or image, [text](path), [text](path#anchor) or [text](#anchor), whose file does not exist or
#     whose #anchor is no heading (GitHub's slugs) or <a id/name> of the target Markdown file;
#   - a repository path cited as code, `scripts/x.sh` or a word of a fenced code block, starting with src/, scripts/, tests/,
#     examples/, docs/, notebooks/, benchmarks/ or .ci/, that does not exist.
# Globs and placeholders are allowed when they say so in their syntax: a path with *, ? or [..] must match at least one file,
# {a,b} is expanded and each alternative checked, and a path with a <placeholder>, ... or … is checked up to the directory
# before it. Links with a scheme (https:, mailto:) are not fetched.
# Checked files: README.md, BENCHMARKS.md and docs/**/*.md. Paths exist when git knows them (tracked, or untracked and not
# ignored), so a build output that exists only locally does not count. Needs bash and /usr/bin/python3 only.
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 - "$@" <<'PY'
import glob, os, re, subprocess, sys, unicodedata

PREFIXES = ("src/", "scripts/", "tests/", "examples/", "docs/", "notebooks/", "benchmarks/", ".ci/")

def known_paths():
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             check=True, capture_output=True).stdout.decode()
        files = {f for f in out.split("\0") if f and os.path.exists(f)}
    except (OSError, subprocess.CalledProcessError):
        files = {os.path.relpath(os.path.join(d, f)) for d, _, fs in os.walk(".") if "/.git" not in d + "/" for f in fs}
    dirs = set()
    for f in files:
        parts = f.split("/")
        for i in range(1, len(parts)):
            dirs.add("/".join(parts[:i]))
    return files, dirs

FILES, DIRS = known_paths()

def exists(path):
    p = os.path.normpath(path)
    return p in FILES or p in DIRS or p == "."

def glob_matches(pattern):
    rx = re.compile("^" + "".join(
        "[^/]*" if c == "*" else "[^/]" if c == "?" else c if c in "[]" else re.escape(c) for c in pattern.rstrip("/")) + "$")
    return any(rx.match(p) for p in FILES | DIRS)

def expand_braces(s):
    m = re.search(r"\{([^{}]*)\}", s)
    if not m:
        return [s]
    return [x for alt in m.group(1).split(",") for x in expand_braces(s[:m.start()] + alt + s[m.end():])]

def check_repo_path(path):
    """None when the path (maybe a glob or placeholder) is there, else why not."""
    for p in expand_braces(path):
        cut = re.search(r"<[^>]*>|\.\.\.|…", p)
        if cut:
            base = p[:cut.start()]
            base = base[:base.rfind("/") + 1] if "/" in base else ""
            if base and not exists(base):
                return f"no directory '{base}' (before the placeholder of '{path}')"
        elif re.search(r"[*?\[]", p):
            if not glob_matches(p):
                return f"no file matches '{p}'"
        elif not exists(p):
            return f"no such file or directory '{p}'"
    return None

def slug(text):
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)   # links: their text
    text = re.sub(r"<[^>]+>", "", text)                       # inline HTML
    text = text.strip().lower()
    keep = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in " -" or cat[0] in "LMN" or cat == "Pc":
            keep.append("-" if ch == " " else ch)
    return "".join(keep)

ANCHORS = {}

def anchors(path):
    if path not in ANCHORS:
        seen, found, fence = {}, set(), None
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"^\s*(```+|~~~+)", line)
                if m:
                    fence = None if fence and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) else (fence or m.group(1))
                    continue
                if fence:
                    continue
                for a in re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", line):
                    found.add(a)
                h = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
                if h:
                    s = slug(h.group(1))
                    n = seen.get(s, 0)
                    seen[s] = n + 1
                    found.add(s if n == 0 else f"{s}-{n}")
        ANCHORS[path] = found
    return ANCHORS[path]

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^)\s]*)(?:\s+\"[^\"]*\")?\s*\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(\S+)")
CODE = re.compile(r"(`+)(.+?)\1")
WORD_TRAIL = ",;:)'\"."

problems = []

def check_link(doc, lineno, target):
    target = target.strip("<>")
    if not target or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
        return
    path, _, anchor = target.partition("#")
    if path:
        resolved = os.path.normpath(os.path.join(os.path.dirname(doc), path))
        if resolved.startswith(".."):
            problems.append(f"{doc}:{lineno}: link '{target}' leaves the repository")
            return
        if not exists(resolved):
            problems.append(f"{doc}:{lineno}: broken link '{target}': no file '{resolved}'")
            return
    else:
        resolved = doc
    if anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
        problems.append(f"{doc}:{lineno}: broken link '{target}': no heading or anchor '#{anchor}' in {resolved}")

def check_code(doc, lineno, code):
    for word in code.split():
        word = word.strip("'\"(").rstrip(WORD_TRAIL)
        if word.startswith(PREFIXES):
            why = check_repo_path(word)
            if why:
                problems.append(f"{doc}:{lineno}: cited path `{word}`: {why}")

docs = [d for d in ["README.md", "BENCHMARKS.md"] if os.path.exists(d)]
docs += sorted(glob.glob("docs/**/*.md", recursive=True))
for doc in docs:
    fence = None
    with open(doc, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            m = re.match(r"^\s*(```+|~~~+)", line)
            if m:
                fence = None if fence and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) else (fence or m.group(1))
                continue
            if fence:
                check_code(doc, lineno, line)
                continue
            for c in CODE.finditer(line):
                check_code(doc, lineno, c.group(2))
            prose = CODE.sub("", line)
            for l in LINK.finditer(prose):
                check_link(doc, lineno, l.group(1))
            r = REFDEF.match(prose)
            if r:
                check_link(doc, lineno, r.group(1))

for p in problems:
    print(p, file=sys.stderr)
print(f"check-links: {len(docs)} files, {len(problems)} problem(s)", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
