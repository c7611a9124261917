"""Helpers behind the submission options (Jobspec.apply_options and the
flux submit/run/batch/alloc option set), as flux-core's flux.job._utils:
signals, durations, dependency URIs, --requires constraints, environment
and rlimit rules, --conf (BatchConfig), --add-file, --setopt/--setattr."""

import fnmatch
import json
import os
import pathlib
import re
import resource
import signal
import string
import sys
import tomllib
from collections import ChainMap
from urllib.parse import parse_qs

from flux import util
from flux.util import dict_merge, get_treedict, set_treedict

# ---- signals and durations


def decode_signal(val):
    """A signal number from an int, "10", "SIGUSR1" or "USR1";
    ValueError for anything else."""
    if isinstance(val, int):
        return val
    try:
        return int(val)
    except ValueError:
        pass
    for name in (val, "SIG" + val):
        signum = getattr(signal, name, None)
        if isinstance(signum, int):
            return int(signum)
    raise ValueError(f"signal '{val}' is invalid")


def decode_duration(val):
    """Seconds from a number, a numeric string or an FSD string ("5m")."""
    if isinstance(val, (int, float)):
        return val
    try:
        return float(val)
    except ValueError:
        return util.parse_fsd(val)


def parse_signal_option(arg):
    """--signal=[SIG][@TIME] as the signal shell option's value:
    {"signum": N, "timeleft": seconds}; SIGUSR1 and 60s by default."""
    sig, _, tleft = (arg or "").partition("@")
    try:
        signum = decode_signal(sig or signal.SIGUSR1)
        if signum <= 0:
            raise ValueError("signal must be > 0")
        timeleft = decode_duration(tleft or 60)
    except ValueError as exc:
        raise ValueError(f"--signal={arg}: {exc}") from None
    return {"signum": signum, "timeleft": timeleft}


# ---- URIs: --dependency and --taskmap


class URIArg:
    """SCHEME:VALUE[?key=val&...] split up; entry is the RFC 26 dependency
    (or taskmap) object {"scheme", "value", key: val...}. A bare word is a
    scheme with an empty value. NAME is the option, for messages."""

    def __init__(self, uri, name):
        scheme, colon, rest = uri.partition(":")
        value, _, query = rest.partition("?")
        if not scheme or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
            raise ValueError(f'Invalid {name} URI "{uri if colon else uri + ":"}"')
        self.scheme, self.path, self.query = scheme.lower(), value, query
        if name == "dependency" and scheme == "after":
            print("dependency scheme 'after' is deprecated, use 'afterstart'",
                  file=sys.stderr)

    @staticmethod
    def _number(text):
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        return text

    @property
    def entry(self):
        entry = {"scheme": self.scheme, "value": self.path}
        for key, values in parse_qs(self.query).items():
            values = [self._number(v) for v in values]
            entry[key] = values[0] if len(values) == 1 else values
        return entry


def dependency_array_create(uris):
    """system.dependencies for a list of --dependency URIs."""
    return [URIArg(uri, "dependency").entry for uri in uris]


# ---- --requires: RFC 35 constraint syntax to an RFC 31 object


class ConstraintSyntaxError(ValueError):
    pass


class MiniConstraintParser:
    """The --requires syntax: terms [OP:]VALUE joined by spaces or and/&
    (binding tighter than or/|), "not EXPR", "-TERM", parentheses, quoted
    values. A bare VALUE is a property (comma separated: several); "host"
    and "hosts" mean hostlist, "rank" ranks. ANDed property terms merge
    into one {"properties": [...]}."""

    operator_map = {None: "properties", "host": "hostlist", "hosts": "hostlist",
                    "rank": "ranks"}
    split_values = {"properties": ","}
    combined_terms = {"properties"}

    _token_re = re.compile(r"""\s*(?:(?P<op>\(|\)|&&?|\|\|?|-)|(?P<word>(?:[^()|&\s"']+|"[^"]*"|'[^']*')+))""")

    def _tokens(self, text):
        pos, out = 0, []
        text = text.rstrip()
        while pos < len(text):
            match = self._token_re.match(text, pos)
            if not match:
                quote = text[pos:].lstrip()[:1]
                if quote in "\"'":
                    raise ConstraintSyntaxError(f"Unclosed quote '{quote}' in '{text}'")
                raise ConstraintSyntaxError(f"Illegal character at position {pos}")
            word = match.group("word")
            if word in ("and", "or", "not"):
                out.append(word)
            elif word is not None:
                out.append(("term", re.sub(r"""["']""", "", word)))
            else:
                out.append({"&": "and", "&&": "and", "|": "or", "||": "or"}.get(
                    match.group("op"), match.group("op")))
            pos = match.end()
        return out

    def parse(self, text):
        self._toks, self._pos, self._text = self._tokens(text), 0, text
        result = self._or()
        if self._pos < len(self._toks):
            raise ConstraintSyntaxError(f"Invalid token '{self._peek()}' in '{text}'")
        return result

    def _peek(self):
        return self._toks[self._pos] if self._pos < len(self._toks) else None

    def _next(self):
        tok = self._peek()
        if tok is None:
            raise ConstraintSyntaxError(f"Unexpected end of input in '{self._text}'")
        self._pos += 1
        return tok

    def _or(self):
        terms = [self._and()]
        while self._peek() == "or":
            self._pos += 1
            terms.append(self._and())
        return terms[0] if len(terms) == 1 else {"or": terms}

    def _and(self):
        terms = [self._unary()]
        while self._peek() not in (None, "or", ")"):
            if self._peek() == "and":
                self._pos += 1
            terms.append(self._unary())
        combined, merged = [], {}
        for term in terms:
            (op, values), = term.items()
            if op in self.combined_terms and op in merged:
                merged[op].extend(values)
                continue
            if op in self.combined_terms:
                merged[op] = values = list(values)
                term = {op: values}
            combined.append(term)
        return combined[0] if len(combined) == 1 else {"and": combined}

    def _unary(self):
        tok = self._next()
        if tok == "not":
            return {"not": [self._unary()]}
        if tok == "-":
            term = self._next()
            if not isinstance(term, tuple):
                raise ConstraintSyntaxError(f"Invalid token '{term}' after '-'")
            return {"not": [self._term(term[1])]}
        if tok == "(":
            expr = self._or()
            if self._next() != ")":
                raise ConstraintSyntaxError(f"Unclosed parenthesis in '{self._text}'")
            return expr
        if isinstance(tok, tuple):
            return self._term(tok[1])
        raise ConstraintSyntaxError(f"Invalid token '{tok}' in '{self._text}'")

    def _term(self, word):
        op, colon, value = word.partition(":")
        if not colon:
            op, value = None, word
        if not value:
            raise ConstraintSyntaxError(f"Missing argument to token '{word}'")
        op = self.operator_map.get(op, op)
        bad = re.search(r"[^\w.+@-]", op)
        if bad:
            raise ConstraintSyntaxError(f"invalid character '{bad[0]}' in operator '{op}:'")
        if op in self.split_values:
            return {op: value.split(self.split_values[op])}
        return {op: [value]}


# ---- environment and rlimits


def filter_dict(env, pattern, reverseMatch=True):
    """ENV without the keys matching PATTERN (a glob, or /regex/); with
    reverseMatch=False, only those keys."""
    if pattern.startswith("/"):
        regex = re.compile(pattern[1:].rstrip("/"))
    else:
        regex = re.compile(fnmatch.translate(pattern))
    return {k: v for k, v in env.items() if bool(regex.match(k)) != reverseMatch}


def list_split(opts):
    """OPTS (a str or list of str) split on commas into one list."""
    if isinstance(opts, str):
        opts = [opts]
    return [part for opt in opts or [] for part in opt.split(",")]


def get_rlimits(name="*"):
    """{limit: soft value} for the RLIMIT_* names matching the glob NAME
    (as the rlimit shell option names them: lowercase, no prefix)."""
    pattern = f"RLIMIT_{name}".upper()
    found = {}
    for limit in fnmatch.filter(vars(resource), pattern):
        found[limit[len("RLIMIT_"):].lower()] = resource.getrlimit(getattr(resource, limit))[0]
    if not found:
        raise ValueError(f'No corresponding rlimit matching "{name}"')
    return found


_RLIMIT_DEFAULT_RULES = ["-memlock", "-ofile", "-msgqueue", "-nice", "-rtprio", "-rttime",
                         "-sigpending"]


def get_filtered_rlimits(user_rules=None):
    """The rlimits a job gets: all of ours except a few (memlock, nofile,
    ...), then --rlimit rules: -NAME drops, NAME adds the current value,
    NAME=VALUE (or unlimited/infinity/inf) sets."""
    limits = get_rlimits()
    for rule in _RLIMIT_DEFAULT_RULES + list_split(user_rules):
        if rule.startswith("-"):
            limits = filter_dict(limits, rule[1:].lower())
            continue
        name, eq, value = rule.partition("=")
        if not eq:
            limits.update(get_rlimits(name.lower()))
            continue
        if not hasattr(resource, f"RLIMIT_{name}".upper()):
            raise ValueError(f'Invalid rlimit "{name}"')
        if value in ("unlimited", "infinity", "inf"):
            limits[name.lower()] = resource.RLIM_INFINITY
        else:
            try:
                limits[name.lower()] = int(value)
            except ValueError:
                raise ValueError(f"Invalid value in {name}={value}") from None
    return limits


def get_filtered_environment(rules, environ=None):
    """Apply --env RULES to ENVIRON (default: ours); returns (environment,
    env_expand). -PATTERN drops, ^FILE reads more rules, VAR imports
    matching variables, VAR=VALUE sets ($VAR expanded from the environment
    built so far, then ours); a value with {{...}} goes to env_expand for
    the job shell to expand."""
    environ = dict(os.environ) if environ is None else environ
    expand = {}
    for rule in rules or []:
        if rule.startswith("-"):
            environ = filter_dict(environ, rule[1:])
        elif rule.startswith("^"):
            try:
                with open(os.path.expanduser(rule[1:])) as fp:
                    lines = [line.strip() for line in fp]
            except OSError as exc:
                raise ValueError(f"--env: {exc}") from None
            environ, more = get_filtered_environment(lines, environ)
            expand.update(more)
        else:
            var, eq, value = rule.partition("=")
            if not eq:
                for key, val in filter_dict(os.environ, var, reverseMatch=False).items():
                    environ.setdefault(key, val)
            elif "{{" in value:
                expand[var] = value
            else:
                try:
                    environ[var] = string.Template(value).substitute(
                        ChainMap(environ, os.environ))
                except ValueError:
                    raise ValueError(f"--env: Unable to substitute {rule}") from None
                except KeyError as exc:
                    raise ValueError(f"--env: Variable {exc} not found in {rule}") from None
    return environ, expand


# ---- --conf


class BatchConfig:
    """A broker config built from successive --conf values (update());
    the result is the config attribute (None until the first update)."""

    loaders = {".toml": tomllib.load, ".json": json.load}

    def __init__(self):
        self.config = None

    def _merge(self, conf):
        self.config = dict_merge(self.config if self.config is not None else {}, conf)
        return self

    def update_string(self, value):
        """Merge a JSON or TOML document."""
        try:
            conf = json.loads(value)
        except json.JSONDecodeError:
            try:
                conf = tomllib.loads(value)
            except tomllib.TOMLDecodeError:
                raise ValueError("--conf: failed to parse multiline as TOML or JSON") from None
        return self._merge(conf)

    def update_keyval(self, keyval):
        """Set one dotted KEY=VALUE (VALUE as JSON, else a string)."""
        key, _, value = keyval.partition("=")
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            pass
        if self.config is None:
            self.config = {}
        try:
            set_treedict(self.config, key, value)
        except (TypeError, AttributeError) as exc:
            raise TypeError(f"failed to set {key} to {value}: {exc}") from None
        return self

    def update_file(self, path, extension=".toml"):
        """Merge a .toml or .json file."""
        loader = self.loaders.get(extension)
        if loader is None:
            raise ValueError(f"--conf: {path} must end in .toml or .json")
        try:
            with open(path, "rb") as fp:
                conf = loader(fp)
        except OSError as exc:
            raise ValueError(f"--conf: {exc}") from None
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"--conf: parse error: {path}: {exc}") from None
        return self._merge(conf)

    def update_named_config(self, name):
        """Merge NAME.toml (or NAME.json) from the first flux config
        directory (XDG search path, subdirectory config) that has it."""
        for directory in util.xdg_searchpath(subdir="config"):
            for ext in (".toml", ".json"):
                path = os.path.join(directory, name + ext)
                if os.path.exists(path):
                    try:
                        with open(path, "rb") as fp:
                            return self._merge(self.loaders[ext](fp))
                    except (OSError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
                        raise ValueError(f"--conf={name}: {path}: {exc}") from None
        raise ValueError(f"--conf: named config '{name}' not found")

    def update(self, value):
        """One --conf value: a multi-line JSON/TOML document, KEY=VALUE,
        a .toml/.json path, or the name of a config in the search path."""
        if self.config is None:
            self.config = {}
        if "\n" in value:
            return self.update_string(value)
        if "=" in value:
            return self.update_keyval(value)
        extension = pathlib.Path(value).suffix
        if extension in self.loaders:
            return self.update_file(value, extension)
        return self.update_named_config(value)

    def get(self, key, default=None):
        """The value at dotted KEY, or DEFAULT."""
        return get_treedict(self.config or {}, key, default=default)


def normalize_conf(conf):
    """A conf argument (None, dict, BatchConfig or a --conf string) as a
    dict or None."""
    if conf is None or isinstance(conf, dict):
        return conf
    if isinstance(conf, BatchConfig):
        return conf.config
    return BatchConfig().update(str(conf)).config


# ---- --add-file, --setopt, --setattr


def jobspec_add_file(jobspec, arg):
    """One --add-file: PATH, NAME=PATH, NAME[:PERMS]=DATA (DATA with a
    newline, or an escaped \\n, is content, not a path)."""
    name, eq, data = arg.replace("\\n", "\n").partition("=")
    perms = None
    if not eq:
        if "\n" in name:
            raise ValueError("--add-file: file name missing")
        name, data = os.path.basename(name), name
    else:
        base, colon, mode = name.partition(":")
        if colon:
            try:
                perms, name = int(mode, 8), base
            except ValueError:
                pass  # the ':' belongs to the name
    try:
        jobspec.add_file(name, data, perms=perms)
    except (TypeError, ValueError, OSError) as exc:
        raise ValueError(f"--add-file={arg}: {exc}") from None


def parse_jobspec_keyval(label, keyval):
    """KEY[=VALUE] of --setopt/--setattr as (key, value): VALUE parsed as
    JSON when it is JSON, 1 when missing; ^KEY=FILE reads the value from a
    JSON file. LABEL names the option in errors."""
    key, eq, val = keyval.partition("=")
    if not eq:
        return key, 1
    if key.startswith("^"):
        with open(val) as fp:
            try:
                return key.lstrip("^"), json.load(fp)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{label}: {val}: {exc}") from exc
    try:
        return key, json.loads(val)
    except json.JSONDecodeError:
        return key, val
