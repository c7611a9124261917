"""flux modprobe: load and remove broker modules, and run start-up and
shutdown tasks, as flux-core's flux-modprobe(1).

Modules are described in TOML files (modprobe.toml, modprobe.d/*.toml);
tasks are Python functions in rc files, marked with @task. Both are
"tasks" here: each names what it requires (pulled in), needs (else it is
skipped), and what it runs before or after. `run`, `rc1` and `rc3` carry
out the active tasks on the local broker, one at a time, in an order that
honours before/after (ties go to the order they were asked for), each only
on the ranks it belongs on.

Unlike flux-core, tasks run one after another rather than on threads, so
the order is deterministic; a task that fails skips the tasks ordered
after it, others still run, and the exit code is 1.
"""

import argparse
import collections
import errno
import glob
import heapq
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import flux
from flux.idset import IDset

DEFAULT_PRIORITY = 100

# Tasks made by @task while an rc file is being read (see Modprobe.read_py_file).
_DECLARED = []


def _as_list(value):
    """A list from a list-valued option (a lone string is a list of one)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _errstr(exc):
    """An exception as the one-line message users see."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, (OSError, ValueError, RuntimeError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


# -- where files are -------------------------------------------------------


def confdir():
    """This flux's configuration directory: PREFIX/etc/flux, where PREFIX is
    the build tree or the install prefix, as `flux config builtin confdir`
    (this file is PREFIX/lib/flux/python3/flux/modprobe.py)."""
    return Path(__file__).resolve().parents[4] / "etc" / "flux"


def _split_path(value):
    return [d for d in value.split(":") if d.strip()]


def search_path():
    """Directories whose modprobe.d/ and rcN.d/ are read: FLUX_MODPROBE_PATH
    (else CONFDIR/modprobe), then FLUX_MODPROBE_PATH_APPEND, each once."""
    if "FLUX_MODPROBE_PATH" in os.environ:
        dirs = _split_path(os.environ["FLUX_MODPROBE_PATH"])
    else:
        dirs = [str(confdir() / "modprobe")]
    dirs += _split_path(os.environ.get("FLUX_MODPROBE_PATH_APPEND", ""))
    return list(dict.fromkeys(dirs))


def _find_files(first, dropin, ext, note):
    """FIRST if it exists, then each search path dir's DROPIN.d/*.EXT."""
    files = []
    note(f"checking {first}")
    if first.exists():
        files.append(str(first))
    for d in search_path():
        note(f"checking {d}/{dropin}.d/*.{ext}")
        files += sorted(glob.glob(f"{d}/{dropin}.d/*.{ext}"))
    return files


def toml_files(note=lambda msg: None):
    """CONFDIR/modprobe/modprobe.toml, then modprobe.d/*.toml drop-ins."""
    return _find_files(confdir() / "modprobe" / "modprobe.toml", "modprobe", "toml", note)


def rc_files(name, note=lambda msg: None):
    """CONFDIR/modprobe/NAME.py, then NAME.d/*.py drop-ins."""
    return _find_files(confdir() / "modprobe" / f"{name}.py", name, "py", note)


# -- tasks and modules -----------------------------------------------------


class Ranks:
    """Where a task runs: "all", an RFC 22 idset, or ">N" / "<N"."""

    def __init__(self, spec):
        self.spec = str(spec)
        self.ids = None
        if self.spec[:1] in (">", "<"):
            try:
                self.bound = int(self.spec[1:])
            except ValueError:
                raise ValueError(f"ranks: invalid rank condition: {self.spec}") from None
        elif self.spec != "all":
            try:
                self.ids = IDset(self.spec)
            except ValueError:
                raise ValueError(f"ranks: invalid idset: {self.spec}") from None

    def __contains__(self, rank):
        if self.spec[:1] == ">":
            return rank > self.bound
        if self.spec[:1] == "<":
            return rank < self.bound
        return self.ids is None or rank in self.ids

    def __str__(self):
        return self.spec


class Task:
    """A unit of work: its conditions (ranks, needs_*) and its place in the
    order (requires, needs, before, after). Runs FUNC(context)."""

    DEFAULTS = {
        "ranks": "all",
        "provides": [],
        "requires": [],
        "needs": [],
        "before": [],
        "after": [],
        "needs_attrs": [],
        "needs_config": [],
        "needs_env": [],
        "disabled": False,
        "priority": DEFAULT_PRIORITY,
    }

    def __init__(self, name, func=None, **kwargs):
        self.name = name
        self.func = func
        self.force_enabled = False
        self.removing = False
        for key in kwargs:
            if key not in self.DEFAULTS:
                raise ValueError(f"{name}: unknown task argument {key}")
        for key, default in self.DEFAULTS.items():
            value = kwargs.get(key)
            if value is None:
                value = default
            setattr(self, key, _as_list(value) if isinstance(default, list) else value)
        self.ranks = Ranks(self.ranks)
        for star, other in (("before", "after"), ("after", "before")):
            if "*" in getattr(self, star) and getattr(self, other):
                raise ValueError(
                    f"{name}: cannot specify '{star}=[\"*\"]' when '{other}' "
                    f"is also set ({other}={getattr(self, other)})"
                )

    def enabled(self, context):
        """True if this task should run here: not disabled, on this rank,
        and its needs_attrs/needs_config/needs_env are met ("!X": X unset)."""
        if self.force_enabled or self.removing:  # what is loaded may go
            return True
        if self.disabled:
            return False
        if context.rank not in self.ranks:
            return False
        checks = (
            (self.needs_config, context.conf_get),
            (self.needs_attrs, context.cached_attr),
            (self.needs_env, context.getenv),
        )
        return all(_spec_met(s, get) for specs, get in checks for s in specs)

    def run(self, context):
        if context.dry_run:
            print(f"run {self.name}")
            return
        context.print(f"start {self.name}")
        self.func(context)
        context.print(f"completed {self.name}")


def _spec_met(spec, getter):
    """True if SPEC holds: "X" means X is set, "!X" that it is not."""
    if spec.startswith("!"):
        return getter(spec[1:]) is None
    return getter(spec) is not None


class Module(Task):
    """A broker module from a modprobe.toml [[modules]] entry: loads it, or
    removes it once set_remove() is called."""

    KEYS = (
        "name",
        "module",
        "args",
        "ranks",
        "provides",
        "requires",
        "needs",
        "before",
        "after",
        "needs-attrs",
        "needs-config",
        "needs-env",
        "priority",
        "disabled",
        "exec",
    )

    def __init__(self, conf):
        if "name" not in conf:
            raise ValueError("Missing required config key 'name'")
        name = conf["name"]
        for key in conf:
            if key not in self.KEYS:
                raise ValueError(f"{name}: invalid config key {key}")
        self.module = conf.get("module", name)
        self.args = _as_list(conf.get("args"))
        self.exec = bool(conf.get("exec", False))
        kwargs = {k.replace("-", "_"): v for k, v in conf.items()}
        for key in ("name", "module", "args", "exec"):
            kwargs.pop(key, None)
        super().__init__(name, **kwargs)

    def update(self, entry):
        """Apply a table of changes (`NAME.key = value`) to this module."""
        new = Module(dict(entry, name=self.name))
        for key in entry:
            if key != "name":
                attr = key.replace("-", "_")
                setattr(self, attr, getattr(new, attr))

    def set_remove(self):
        """Remove instead of load: the order reverses, requirements drop."""
        if not self.removing:
            self.before, self.after = self.after, self.before
            self.needs, self.requires = [], []
            self.removing = True

    def args_for(self, context):
        return context.getopts(self.name, default=self.args, also=self.provides)

    def run(self, context):
        if self.removing:
            self._remove(context)
        elif context.dry_run:
            print(" ".join([f"load {self.name}", *self.args_for(context)]))
        else:
            self._load(context)

    def _load(self, context):
        payload = {"path": self.module, "args": self.args_for(context)}
        if self.name != self.module:
            payload["name"] = self.name
        if self.exec:
            payload["exec"] = True
        context.print(f"module.load {payload}")
        context.rpc("module.load", payload).get()
        context.print(f"loaded {self.name}")

    def _remove(self, context):
        if context.dry_run:
            print(f"remove {self.name}")
            return
        context.print(f"module.remove {self.name}")
        try:
            context.rpc("module.remove", {"name": self.name}).get()
        except OSError as exc:
            if exc.errno != errno.ENOENT:  # already gone is fine
                raise
        context.print(f"removed {self.name}")

    def to_dict(self):
        out = {}
        for key in self.KEYS:
            value = getattr(self, key.replace("-", "_"))
            out[key] = str(value) if isinstance(value, Ranks) else value
        return out


def task(name=None, **kwargs):
    """Decorator: make FUNC(context) the modprobe task NAME of an rc file.
    Options: ranks, requires, needs, provides, before, after, needs_attrs,
    needs_config, needs_env (see flux-modprobe(1))."""
    if not isinstance(name, str):
        raise ValueError('task missing required name argument: @task("name")')

    def declare(func):
        t = Task(name, func, **kwargs)
        _DECLARED.append(t)
        return t

    return declare


# -- what tasks see ----------------------------------------------------------


class Context:
    """What setup() and tasks get: the broker (handle, rank, rpc, attrs,
    config, env), module options, and values shared between tasks."""

    def __init__(self, modprobe, verbose=False, dry_run=False):
        self.modprobe = modprobe
        self.verbose = verbose
        self.dry_run = dry_run
        self._handle = None
        self._data = {}
        self._opts = collections.defaultdict(list)
        self._overwrite = set()
        self._attrs = {}
        self._broker_env = {}

    @property
    def handle(self):
        if self._handle is None:
            self._handle = flux.Flux()
        return self._handle

    @property
    def rank(self):
        return self.handle.get_rank()

    def print(self, *args):
        """Say something on stderr when verbose (-v)."""
        if self.verbose:
            print(*args, file=sys.stderr)

    def set(self, key, value):
        self._data[key] = value

    def get(self, key, default=None):
        return self._data.get(key, default)

    def attr_get(self, name, default=None):
        """A broker attribute, or DEFAULT if it is not set."""
        try:
            return self.handle.attr_get(name)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
            return default

    def cached_attr(self, name):
        """attr_get for conditions, asked once per run."""
        if name not in self._attrs:
            self._attrs[name] = self.attr_get(name)
        return self._attrs[name]

    def conf_get(self, key, default=None):
        """The broker config value at dotted KEY, or DEFAULT."""
        return self.handle.conf_get(key, default=default)

    def getenv(self, name, default=None):
        """NAME from our environment, else from the broker's (rc scripts
        may not see all of it), else DEFAULT."""
        value = os.environ.get(name)
        if value is None:
            if name not in self._broker_env:
                try:
                    env = self.rpc("broker.getenv", {"names": [name]}).get()["env"]
                    self._broker_env[name] = env.get(name)
                except OSError:
                    self._broker_env[name] = None
            value = self._broker_env[name]
        return default if value is None else value

    def rpc(self, topic, *args, **kwargs):
        return self.handle.rpc(topic, *args, **kwargs)

    def setopt(self, module, options, overwrite=False):
        """Add load arguments for MODULE (whitespace separated); with
        overwrite, they replace its default and earlier ones."""
        if overwrite:
            self._overwrite.add(module)
            self._opts[module] = []
        self._opts[module].extend(str(options).split())

    def getopts(self, name, default=None, also=None):
        """NAME's arguments: DEFAULT (unless overwritten), then those set
        for NAME and for each name in ALSO (e.g. the services it provides)."""
        out = [] if default is None or name in self._overwrite else list(default)
        for n in [name, *_as_list(also)]:
            out += self._opts.get(n, [])
        return out

    def bash(self, command):
        """Run COMMAND with bash -c; raise RuntimeError if it fails."""
        sys.stdout.flush()
        rc = subprocess.run(["bash", "-c", command]).returncode
        if rc > 0:
            raise RuntimeError(f"bash: exited with exit status {rc}")
        if rc < 0:
            raise RuntimeError(f"bash: died by signal {-rc}")

    def load_modules(self, modules):
        """Load MODULES (names or services) and what they require."""
        self.modprobe.activate_modules(_as_list(modules))

    def remove_modules(self, modules=None):
        """Remove MODULES, or every loaded module if None."""
        self.modprobe.set_remove(None if modules is None else _as_list(modules))

    def set_alternative(self, service, module):
        """Make MODULE the one loaded for SERVICE."""
        self.modprobe.set_alternative(service, module)

    def enable(self, name):
        """Run NAME here whatever its ranks and needs_* say."""
        for t in self.modprobe.providers(name, required=True):
            t.force_enabled = True


# -- the task set and its order ------------------------------------------


class Modprobe:
    """Known tasks and modules, the active ones, and how to order and run them."""

    def __init__(self, verbose=False, dry_run=False):
        self.tasks = {}  # name -> Task; insertion order breaks priority ties
        self.active = []  # names asked for, in order
        self.context = Context(self, verbose=verbose, dry_run=dry_run)
        self.exitcode = 0

    # configuration

    def configure(self):
        """Read the module descriptions, then the broker config's
        [modules] table (alternatives and per-module updates)."""
        alternatives = {}
        for path in toml_files(self.context.print):
            self.context.print(f"loading {path}")
            alternatives.update(self.read_toml(path))
        # Chosen once every file has added its modules, so that a later
        # file's higher priority module does not undo the choice.
        for service, name in alternatives.items():
            self.set_alternative(service, name)
        self.apply_updates(self.context.conf_get("modules", default={}) or {}, "[modules]")
        return self

    def read_toml(self, path):
        """Add PATH's [[modules]] and apply its NAME.key updates; return
        its alternatives table."""
        try:
            with open(path, "rb") as f:
                conf = tomllib.load(f)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: {exc}") from None
        try:
            for table in conf.pop("modules", []):
                self._add_module(table)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
        alternatives = conf.pop("alternatives", {})
        self.apply_updates(conf, path)
        return alternatives

    def apply_updates(self, tables, origin):
        """NAME.key = value updates (and, from the broker config, an
        alternatives table) from ORIGIN."""
        try:
            for name, entry in tables.items():
                if not isinstance(entry, dict):
                    raise ValueError(f"{name}: expected a table of module updates")
                if name == "alternatives":
                    for service, module in entry.items():
                        self.set_alternative(service, module)
                else:
                    self.get(name).update(entry)
        except ValueError as exc:
            raise ValueError(f"{origin}: {exc}") from None

    def _add_module(self, table):
        try:
            module = Module(table)
        except ValueError as exc:
            raise ValueError(f"invalid modules entry: {exc}") from None
        if module.name in self.tasks:
            self.tasks[module.name].update(table)
        else:
            self.add(module)

    def add(self, t):
        t.index = len(self.tasks) if t.name not in self.tasks else self.tasks[t.name].index
        self.tasks[t.name] = t

    # lookup

    def providers(self, service, required=False):
        """Tasks named SERVICE or providing it, lowest priority first."""
        found = [t for t in self.tasks.values() if service == t.name or service in t.provides]
        if required and not found:
            raise ValueError(f"no such task or module {service}")
        return sorted(found, key=lambda t: (t.priority, t.index))

    def get(self, service):
        """The preferred provider of SERVICE, ignoring where it may run."""
        found = self.providers(service, required=True)
        usable = [t for t in found if not t.disabled]
        return (usable or found)[-1]

    def resolve(self, service, ignore_needs=False):
        """The provider of SERVICE that would run here: the highest priority
        one that is enabled and whose needs can be met, else the highest."""
        found = self.providers(service, required=True)
        ok = [
            t
            for t in found
            if t.enabled(self.context) and (ignore_needs or self._needs_met(t, set()))
        ]
        return (ok or found)[-1]

    def _needs_met(self, t, seen):
        seen = seen | {t.name}
        return all(
            any(
                p.name not in seen and p.enabled(self.context) and self._needs_met(p, seen)
                for p in self.providers(need)
            )
            for need in t.needs
        )

    def set_alternative(self, service, name):
        found = self.providers(service)
        if not found:
            raise ValueError(f"no such service {service}")
        chosen = [t for t in found if t.name == name]
        if not chosen:
            raise ValueError(f"no module {name} provides {service}")
        if len(found) > 1:
            chosen[0].priority = max(t.priority for t in found) + 1

    def disable(self, names):
        """Disable each comma-separated task, module or service in NAMES."""
        for name in [n for arg in _as_list(names) for n in arg.split(",") if n]:
            found = self.providers(name)
            if not found:
                raise ValueError(f"no such module or task '{name}'")
            for t in found:
                t.disabled = True

    def disable_from_env(self):
        self.disable(os.environ.get("FLUX_MODPROBE_DISABLE", ""))

    # rc files

    def read_rc(self, name):
        """Read CONFDIR/modprobe/NAME.py and the NAME.d/*.py drop-ins."""
        for path in rc_files(name, self.context.print):
            self.read_py_file(path)

    def read_py_file(self, path):
        """Run an rc file: its @task functions become active, then its
        setup(context) runs."""
        self.context.print(f"loading {path}")
        if not os.path.isfile(path):
            raise OSError(errno.ENOENT, f"{path}: No such file or directory")
        modname = f"_flux_modprobe_rc{len(self.tasks)}"
        loader = importlib.machinery.SourceFileLoader(modname, str(path))
        rc = importlib.util.module_from_spec(importlib.util.spec_from_loader(modname, loader))
        del _DECLARED[:]
        loader.exec_module(rc)
        for t in list(_DECLARED):
            self.add(t)
            self.active.append(t.name)
        setup = getattr(rc, "setup", None)
        if callable(setup):
            setup(self.context)

    def activate_modules(self, names):
        for name in names:
            t = self.get(name)
            if not isinstance(t, Module):
                raise ValueError(f"{name} is not a module")
            self.active += [name, *t.requires]

    def set_remove(self, names=None):
        """Make modules removals: NAMES, or all known loaded ones (newest
        first)."""
        if names is None:
            names = [m for m, _ in reversed(loaded_modules(self.context.handle))
                     if m in self.tasks]
            self.set_alternatives_to(names)
        for name in names:
            t = self.get(name)
            t.set_remove()
            self.active.append(t.name)

    def set_alternatives_to(self, names):
        """Make each named module the chosen provider of its services."""
        for name in names:
            for service in self.tasks[name].provides:
                self.set_alternative(service, name)

    # solving

    def active_tasks(self):
        """The active tasks that run here, without those whose needs are not
        met, plus everything they require."""
        names = list(dict.fromkeys(self.active))
        names = [n for n in names if self.resolve(n).enabled(self.context)]
        return self.solve(self._drop_unmet_needs(names))

    def _drop_unmet_needs(self, names):
        keep = list(names)
        while True:
            tasks = [self.resolve(n) for n in keep]
            have = {s for t in tasks for s in (t.name, *t.provides)}
            unmet = [n for n, t in zip(keep, tasks) if not set(t.needs) <= have]
            if not unmet:
                return keep
            keep = [n for n in keep if n not in unmet]

    def solve(self, names, everything=False):
        """Task names for NAMES and, recursively, what they require; those
        not enabled here are left out unless EVERYTHING."""
        out = []
        seen = set()

        def visit(name):
            t = self.resolve(name, ignore_needs=everything)
            if t.name in seen:
                return
            seen.add(t.name)
            if everything or t.enabled(self.context):
                out.append(t.name)
                for r in t.requires:
                    visit(r)

        for name in names:
            visit(name)
        return out

    def predecessors(self, names):
        """{task: [tasks that must run first]} from before/after ("*": all
        others, except those with "*" on the same side)."""
        preds = {n: [] for n in names}

        def real(name):
            return self.resolve(name).name

        for n in names:
            t = self.tasks[n]
            if "*" in t.after:
                preds[n] += [m for m in names if m != n and "*" not in self.tasks[m].after]
            else:
                preds[n] += [a for a in map(real, t.after) if a in preds and a != n]
        for n in names:
            for b in self.tasks[n].before:
                if b == "*":
                    for m in names:
                        if m != n and "*" not in self.tasks[m].before:
                            preds[m].append(n)
                elif real(b) in preds and real(b) != n:
                    preds[real(b)].append(n)
        return {n: list(dict.fromkeys(p)) for n, p in preds.items()}

    @staticmethod
    def order(preds):
        """A run order for PREDS (ties: first listed first); ValueError
        naming a cycle if there is none."""
        position = {n: i for i, n in enumerate(preds)}
        waiting = {n: len(p) for n, p in preds.items()}
        after = collections.defaultdict(list)
        for n, ps in preds.items():
            for p in ps:
                after[p].append(n)
        ready = [position[n] for n, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        names = list(preds)
        out = []
        while ready:
            n = names[heapq.heappop(ready)]
            out.append(n)
            for m in after[n]:
                waiting[m] -= 1
                if waiting[m] == 0:
                    heapq.heappush(ready, position[m])
        if len(out) < len(names):
            raise ValueError("nodes are in a cycle: " + " -> ".join(_cycle(preds, out)))
        return out

    def run(self, names):
        """Run the tasks NAMES in order; a failure skips what comes after it."""
        preds = self.predecessors(names)
        failed = set()
        for n in self.order(preds):
            if failed.intersection(preds[n]):
                failed.add(n)
                continue
            try:
                self.tasks[n].run(self.context)
            except Exception as exc:  # a task's error ends only that task
                sys.stdout.flush()
                print(f"{n}: {_errstr(exc)}", file=sys.stderr)
                failed.add(n)
                self.exitcode = 1
        return self.exitcode

    # flux modprobe load / remove

    def load(self, names):
        """Load modules NAMES (even if disabled here) and what they require,
        except those already loaded. Returns False if nothing was to do."""
        loaded = {m for m, _ in loaded_modules(self.context.handle)}
        needed = [n for n in self.solve(names, everything=True) if n not in loaded]
        if not needed:
            return False
        self.set_alternatives_to(needed)
        self.run(needed)
        return True

    def remove(self, names):
        """Remove modules NAMES ("all": every known one) and the modules
        they required that nothing else loaded still requires."""
        mods = loaded_modules(self.context.handle)
        known = [m for m, _ in mods if m in self.tasks]

        def loaded_name(service):
            return next((m for m, svcs in mods if service == m or service in svcs), None)

        requires = {m: {loaded_name(r) or r for r in self.tasks[m].requires} for m in known}
        if not names or "all" in names:
            targets = set(known)
        else:
            targets = set()
            for name in names:
                if loaded_name(name) is None:
                    raise ValueError(f"module {name} is not loaded")
                targets.add(loaded_name(name))

        def users(m):
            return sorted(u for u in known if u not in targets and m in requires[u])

        for m in sorted(targets):
            if users(m):
                raise ValueError(f"{m} still in use by {', '.join(users(m))}")
        todo = list(targets)
        while todo:
            for dep in requires.get(todo.pop(), ()):
                if dep in known and dep not in targets and not users(dep):
                    targets.add(dep)
                    todo.append(dep)
        ordered = [m for m in reversed(known) if m in targets]
        self.set_alternatives_to(ordered)
        for m in ordered:
            self.tasks[m].set_remove()
        return self.run(ordered)


def _cycle(preds, done):
    """One cycle among the tasks that could not be ordered, each listed
    before a task that must run after it."""
    left = [n for n in preds if n not in done]
    path, seen, n = [], {}, left[0]
    while n not in seen:
        seen[n] = len(path)
        path.append(n)
        n = next(p for p in preds[n] if p not in done)
    return list(reversed(path[seen[n]:] + [n]))


def loaded_modules(handle):
    """[(name, services)] of the broker's modules, oldest first."""
    mods = handle.rpc("module.list").get().get("mods", [])
    return [(m["name"], m.get("services", [])) for m in mods if m.get("path") != "builtin"]


# -- flux modprobe ---------------------------------------------------------


def _run_tasks(args, read):
    """Configure, read the rc file(s), then run (or show) the active tasks."""
    mp = Modprobe(verbose=args.verbose, dry_run=args.dry_run).configure()
    read(mp)
    mp.disable_from_env()
    names = mp.active_tasks()
    if getattr(args, "show_deps", False):
        print(json.dumps(mp.predecessors(names)))
        return 0
    return mp.run(names)


def cmd_run(args):
    return _run_tasks(args, lambda mp: mp.read_py_file(args.file))


def cmd_rc1(args):
    return _run_tasks(args, lambda mp: mp.read_rc("rc1"))


def cmd_rc3(args):
    """Remove every loaded module, with the rc3 tasks around them."""

    def read(mp):
        mp.set_remove()
        mp.read_rc("rc3")

    return _run_tasks(args, read)


def cmd_load(args):
    mp = Modprobe(dry_run=args.dry_run).configure()
    if not mp.load(args.modules):
        print("flux-modprobe: All modules and dependencies are already loaded", file=sys.stderr)
    return mp.exitcode


def cmd_remove(args):
    return Modprobe(dry_run=args.dry_run).configure().remove(args.modules)


def _configured_for_query(args):
    """A Modprobe with -S and -D (and FLUX_MODPROBE_DISABLE) applied."""
    mp = Modprobe().configure()
    for entry in args.set_alternative:
        service, sep, module = entry.partition("=")
        if not service or not sep:
            raise ValueError(f"--set-alternative: invalid value '{entry}'")
        mp.set_alternative(service, module)
    mp.disable_from_env()
    mp.disable(args.disable)
    return mp


def cmd_show(args):
    mp = _configured_for_query(args)
    print(json.dumps(mp.resolve(args.module).to_dict()))
    return 0


def cmd_list_dependencies(args):
    """Print what MODULE requires as a tree, breadth first; each name once
    unless --full (then only cycles are cut)."""
    mp = _configured_for_query(args)
    root = {"label": args.module, "children": [], "above": set()}
    queue = collections.deque([root])
    visited = set()
    while queue:
        node = queue.popleft()
        t = mp.get(node["label"])
        above = node["above"] | {t.name}
        if not args.full:
            visited.add(t.name)
        for dep in t.requires:
            if mp.get(dep).name in above if args.full else dep in visited:
                continue
            child = {"label": dep, "children": [], "above": above}
            node["children"].append(child)
            queue.append(child)
            if not args.full:
                visited.add(dep)
        if t.name != node["label"]:
            node["label"] += f" ({t.name})"
    print("\n".join(_tree_lines(root)))
    return 0


def _tree_lines(node, prefix=""):
    lines = [node["label"]] if not prefix else []
    kids = node["children"]
    for i, child in enumerate(kids):
        last = i == len(kids) - 1
        lines.append(prefix + ("└── " if last else "├── ") + child["label"])
        lines += _tree_lines(child, prefix + ("    " if last else "│   "))
    return lines


def _parser():
    p = argparse.ArgumentParser(
        prog="flux modprobe", description="Load and remove modules, run start-up tasks"
    )
    sub = p.add_subparsers(dest="subcommand", required=True)

    def command(name, func, help, verbose=False, dry_run=True, show_deps=False):
        s = sub.add_parser(name, help=help)
        s.set_defaults(func=func, verbose=False, dry_run=False)
        if dry_run:
            s.add_argument("--dry-run", action="store_true", help="print what would be done")
        if verbose:
            s.add_argument("-v", "--verbose", action="store_true", help="say what is done")
        if show_deps:
            s.add_argument("--show-deps", action="store_true",
                           help="print each task's predecessors as JSON and exit")
        return s

    command("load", cmd_load, "load modules and what they require").add_argument(
        "modules", metavar="MODULE", nargs="+")
    command("remove", cmd_remove, "remove modules and what only they required").add_argument(
        "modules", metavar="MODULE", nargs="+")
    command("run", cmd_run, "run a Python rc file", verbose=True, show_deps=True).add_argument(
        "file", metavar="FILE")
    command("rc1", cmd_rc1, "run CONFDIR/modprobe/rc1.py and rc1.d/*.py",
            verbose=True, show_deps=True)
    command("rc3", cmd_rc3, "remove all modules, running rc3.py and rc3.d/*.py", verbose=True)
    for name, func, help in (
        ("show", cmd_show, "print a module's description as JSON"),
        ("list-dependencies", cmd_list_dependencies, "print a module's requirements as a tree"),
    ):
        s = command(name, func, help, dry_run=False)
        s.add_argument("-S", "--set-alternative", metavar="NAME=MODULE", action="append",
                       default=[], help="use MODULE for service NAME")
        s.add_argument("-D", "--disable", metavar="NAME", action="append", default=[],
                       help="disable module or task NAME")
        if name == "list-dependencies":
            s.add_argument("-f", "--full", action="store_true", help="show duplicates")
        s.add_argument("module", metavar="MODULE")
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception as exc:  # reported as one line, never a traceback
        sys.stdout.flush()
        print(f"flux-modprobe: {_errstr(exc)}", file=sys.stderr)
        return 1
