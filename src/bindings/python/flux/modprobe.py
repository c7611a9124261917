"""flux modprobe: load and remove broker modules from Python rc files, as
flux-core's flux-modprobe(1).

An rc file defines setup(context), which names the modules to load
(context.load_modules) or remove (context.remove_modules) and sets their
options (context.setopt), and may define tasks with @task that run before
or after given modules, on given ranks. `flux modprobe run FILE` carries
it out on the local broker: modules are loaded in the order given
(dependencies first, see MODULES) and removed in the reverse order, each
only on the ranks it belongs on."""

import argparse
import errno
import importlib.util
import os
import sys

import flux
from flux.idset import IDset

# Where each module belongs (the ranks), what it needs loaded first, and
# the name it provides (content-backing is the configured backing store).
MODULES = {
    "content": {"ranks": "all", "requires": []},
    "content-sqlite": {"ranks": "0", "requires": ["content"], "provides": "content-backing"},
    "kvs": {"ranks": "all", "requires": ["content"]},
    "kvs-watch": {"ranks": "all", "requires": ["kvs"]},
    "heartbeat": {"ranks": "0", "requires": []},
    "resource": {"ranks": "all", "requires": ["kvs"]},
    "job-manager": {"ranks": "0", "requires": ["kvs"]},
    "job-info": {"ranks": "0", "requires": ["kvs-watch"]},
    "job-list": {"ranks": "0", "requires": ["job-manager"]},
    "job-ingest": {"ranks": "0", "requires": ["job-manager"]},
    "job-exec": {"ranks": "0", "requires": ["job-manager", "resource"]},
    "sched-simple": {"ranks": "0", "requires": ["resource", "job-manager"]},
}
ALIASES = {"content-backing": "content-sqlite"}

_TASKS = []


class Task:
    def __init__(self, name, fn, ranks="all", before=(), after=(), needs=(), requires=()):
        self.name = name
        self.fn = fn
        self.ranks = ranks
        self.before = [ALIASES.get(b, b) for b in before]
        self.after = [ALIASES.get(a, a) for a in after]
        self.needs = [ALIASES.get(n, n) for n in needs]
        self.requires = list(requires)


def task(name, ranks="all", before=None, after=None, needs=None, requires=None, **kw):
    """Decorator: run fn(context) as task NAME, ordered against modules."""

    def register(fn):
        _TASKS.append(Task(name, fn, ranks, before or (), after or (), needs or (),
                           requires or ()))
        return fn

    return register


def _on_rank(ranks, rank):
    if ranks in (None, "all", "*"):
        return True
    if isinstance(ranks, str) and ranks.startswith(">"):
        return rank > int(ranks[1:])
    return rank in IDset(str(ranks))


class Context:
    def __init__(self, handle, rank):
        self.handle = handle
        self.rank = rank
        self._opts = {}
        self._load = []
        self._remove = None
        self._removing = False
        self._data = {}

    def setopt(self, module, option):
        """Add a module argument (NAME=VALUE or a bare word) for its load."""
        self._opts.setdefault(ALIASES.get(module, module), []).extend(str(option).split())

    def getopts(self, module):
        return list(self._opts.get(ALIASES.get(module, module), []))

    def load_modules(self, modules):
        for m in modules:
            m = ALIASES.get(m, m)
            if m not in self._load:
                self._load.append(m)

    def remove_modules(self, modules=None):
        self._remove = None if modules is None else [ALIASES.get(m, m) for m in modules]
        self._removing = True

    def rpc(self, topic, payload=None, nodeid=flux.constants.FLUX_NODEID_ANY, flags=0):
        return self.handle.rpc(topic, payload, nodeid, flags)

    def attr_get(self, name):
        return self.handle.attr_get(name)

    def set(self, key, value):
        self._data[key] = value

    def get(self, key, default=None):
        return self._data.get(key, default)

    def print(self, *args):
        print(*args, file=sys.stderr)


def _order(modules):
    """Modules with what each requires (when also listed) first."""
    out = []

    def visit(m, stack):
        if m in out or m in stack:
            return
        for r in MODULES.get(m, {}).get("requires", []):
            if r in modules:
                visit(r, stack + [m])
        out.append(m)

    for m in modules:
        visit(m, [])
    return out


def _requires(module):
    """Every module that module needs loaded before it, in load order."""
    out = []

    def visit(m):
        for r in MODULES.get(m, {}).get("requires", []):
            if r not in out:
                visit(r)
                out.append(r)

    visit(module)
    return out


def _loaded(h):
    r = h.rpc("module.list").get()
    return [m["name"] for m in r.get("mods", [])]


def _run_tasks(ctx, module, when, done):
    for t in _TASKS:
        if t.name in done or not _on_rank(t.ranks, ctx.rank):
            continue
        ref = t.before if when == "before" else t.after
        if module in ref:
            done.add(t.name)
            t.fn(ctx)


def run(path):
    """Carry out the rc file at path on the local broker."""
    h = flux.Flux()
    rank = h.get_rank()
    ctx = Context(h, rank)
    spec = importlib.util.spec_from_file_location("modprobe_rc", path)
    if spec is None:
        raise OSError(errno.ENOENT, f"{path}: cannot be read")
    rc = importlib.util.module_from_spec(spec)
    del _TASKS[:]
    spec.loader.exec_module(rc)
    if hasattr(rc, "setup"):
        rc.setup(ctx)
    done = set()
    if ctx._removing:
        loaded = _loaded(h)
        targets = loaded if ctx._remove is None else [m for m in ctx._remove if m in loaded]
        order = [m for m in reversed(_order(_load_order_hint(targets))) if m in targets]
        for m in order:
            _run_tasks(ctx, m, "before", done)
            h.rpc("module.remove", {"name": m}).get()
            _run_tasks(ctx, m, "after", done)
    else:
        wanted = [m for m in _order(ctx._load)
                  if _on_rank(MODULES.get(m, {}).get("ranks", "all"), rank)]
        for m in wanted:
            _run_tasks(ctx, m, "before", done)
            h.rpc("module.load", {"path": m, "args": ctx.getopts(m)}).get()
            _run_tasks(ctx, m, "after", done)
        present = set(wanted)
        for t in _TASKS:
            if t.name in done or not _on_rank(t.ranks, rank):
                continue
            if all(n in present for n in t.needs):
                done.add(t.name)
                t.fn(ctx)
    return 0


def _load_order_hint(mods):
    """Known modules in their load order, then any others as given."""
    known = [m for m in MODULES if m in mods]
    return known + [m for m in mods if m not in known]


def main(argv=None):
    p = argparse.ArgumentParser(prog="flux modprobe")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="carry out an rc file")
    r.add_argument("path")
    ld = sub.add_parser("load", help="load modules (and what they require)")
    ld.add_argument("modules", nargs="+")
    rm = sub.add_parser("remove", help="remove modules")
    rm.add_argument("modules", nargs="+")
    sh = sub.add_parser("show", help="show what is known of a module")
    sh.add_argument("module")
    ls = sub.add_parser("list-dependencies", help="modules a module requires")
    ls.add_argument("module")
    args = p.parse_args(argv)
    try:
        if args.cmd == "run":
            return run(args.path)
        if args.cmd in ("show", "list-dependencies"):
            m = ALIASES.get(args.module, args.module)
            if m not in MODULES:
                print(f"flux-modprobe: unknown module {args.module}", file=sys.stderr)
                return 1
            if args.cmd == "show":
                info = dict(MODULES[m], name=m)
                for k, v in info.items():
                    print(f"{k:>10}: {v}")
            else:
                for d in _requires(m):
                    print(d)
            return 0
        h = flux.Flux()
        rank = h.get_rank()
        mods = [ALIASES.get(m, m) for m in args.modules]
        if args.cmd == "load":
            loaded = set(_loaded(h))
            for m in _order(mods):
                if m in loaded or not _on_rank(MODULES.get(m, {}).get("ranks", "all"), rank):
                    continue
                h.rpc("module.load", {"path": m, "args": []}).get()
        else:
            loaded = _loaded(h)
            for m in reversed(_order(_load_order_hint(mods))):
                if m in loaded:
                    h.rpc("module.remove", {"name": m}).get()
        return 0
    except OSError as e:
        print(f"flux-modprobe: {e.strerror}", file=sys.stderr)
        return 1
