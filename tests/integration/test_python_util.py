"""flux.util beyond OutputFormat (see test_python_resource.py): datetime
phrases, argparse actions and help formatting, CLIMain, payload/topic
encoding, future error helpers, Deduplicator, Tree, and UtilConfig, through
the real `flux python`.

Most tests run a snippet outside any instance that prints JSON, compared
here with what flux-core's Python gives (the datetime phrases were checked
against the parsedatetime module flux-core uses). One test makes a real
RPC in a 1-broker instance."""

import json
import textwrap

from conftest import clean_env, flux

PRELUDE = """
import argparse, contextlib, io, json, os, signal, sys
from datetime import datetime
import flux.util as util

def err(f):
    try:
        f()
    except SystemExit as e:
        return ["SystemExit", e.code]
    except Exception as e:
        return [type(e).__name__, str(e)]
    return "ok"

def printed(f):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = err(f)
    return [result, out.getvalue()]
"""


def py(code, env=None, prelude=""):
    r = flux("python", "-c", PRELUDE + prelude + textwrap.dedent(code), env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def run_py(code, env=None):
    return flux("python", "-c", PRELUDE + textwrap.dedent(code), env=env)


# -- the module's names -------------------------------------------------------


def test_public_names_are_flux_cores():
    out = py("""
        names = ["check_future_error", "interruptible", "encode_payload", "encode_topic",
                 "help_formatter", "get_treedict", "set_treedict", "del_treedict",
                 "TreedictAction", "FilterAction", "FilterActionSetUpdate",
                 "FilterActionUser", "FilterTrueAction", "YesNoAction", "ColorAction",
                 "CLIMain", "parse_fsd", "parse_datetime", "UtilDatetime", "fsd",
                 "empty_outputs", "UtilFormatter", "AltField", "DisplayValue",
                 "OutputFormat", "Deduplicator", "Tree", "dict_merge", "xdg_searchpath",
                 "UtilConfig", "Fileref"]
        print(json.dumps([n for n in names if not hasattr(util, n)]
                         + [n for n in util.__all__ if n not in names]))
    """)
    assert out == []


# -- parse_datetime ------------------------------------------------------------

# now = Thursday 2021-06-10 08:00:00 local time
PHRASES = {
    "now": "2021-06-10 08:00:00",
    "+1.5m": "2021-06-10 08:01:30",
    "-1h": "2021-06-10 07:00:00",
    "+100ms": "2021-06-10 08:00:00.100000",
    "2021-06-10 08:00:00": "2021-06-10 08:00:00",
    "2021-06-10T09:30": "2021-06-10 09:30:00",
    "6/10/2021 08:00": "2021-06-10 08:00:00",
    "Jun 10, 2021 8am": "2021-06-10 08:00:00",
    "2021-06-21 6am": "2021-06-21 06:00:00",
    "in 10 min": "2021-06-10 08:10:00",
    "in an hour": "2021-06-10 09:00:00",
    "1.5 hours": "2021-06-10 09:30:00",
    "10 minutes ago": "2021-06-10 07:50:00",
    "5 secs ago": "2021-06-10 07:59:55",
    "a year ago": "2020-06-10 08:00:00",
    "2 days from now": "2021-06-12 08:00:00",
    "in 2 weeks": "2021-06-24 08:00:00",
    "in 3 months": "2021-09-10 08:00:00",
    "5m": "2021-06-10 08:05:00",
    "today": "2021-06-10 00:00:00",
    "tomorrow": "2021-06-11 00:00:00",
    "yesterday noon": "2021-06-09 12:00:00",
    "noon tomorrow": "2021-06-11 12:00:00",
    "tomorrow at 5pm": "2021-06-11 17:00:00",
    "8 am tomorrow": "2021-06-11 08:00:00",
    "tomorrow morning": "2021-06-11 06:00:00",
    "tonight": "2021-06-10 21:00:00",
    "eod": "2021-06-10 17:00:00",
    "5pm": "2021-06-10 17:00:00",
    "8:30pm": "2021-06-10 20:30:00",
    "17:45:30": "2021-06-10 17:45:30",
    "12am": "2021-06-10 00:00:00",
    "12pm": "2021-06-10 12:00:00",
    "midnight": "2021-06-10 00:00:00",
    "last wed": "2021-06-09 00:00:00",
    "last thu": "2021-06-03 00:00:00",
    "next wed": "2021-06-16 00:00:00",
    "next mon": "2021-06-14 00:00:00",
    "this mon": "2021-06-07 00:00:00",
    "this thursday": "2021-06-10 00:00:00",
    "next friday noon": "2021-06-18 12:00:00",
    "thu": "2021-06-17 08:00:00",
    "friday 9am": "2021-06-11 09:00:00",
    "sat": "2021-06-12 08:00:00",
    "next day": "2021-06-11 00:00:00",
    "last week": "2021-06-03 00:00:00",
    "next month": "2021-07-01 00:00:00",
    "last year": "2020-01-01 00:00:00",
    "next hour": "2021-06-10 09:00:00",
    "6/11": "2021-06-11 08:00:00",
    "6/9": "2022-06-09 08:00:00",
    "6/10/21": "2021-06-10 08:00:00",
    "2021/6/12": "2021-06-12 08:00:00",
    "2021-06-21": "2021-06-21 08:00:00",
    "june 10th": "2021-06-10 08:00:00",
    "10 june": "2021-06-10 08:00:00",
    "june": "2022-06-01 08:00:00",
    "Jan 31": "2022-01-31 08:00:00",
    "dec 25 2021": "2021-12-25 08:00:00",
}

INVALID = ["blursday", "6/45/2021", "+1ns", "+1x", "+x", "-", "", "5", "2021",
           "tomorrow yesterday", "13pm", "25:00", "next", "in 1.5 months", "last minute"]


def test_parse_datetime_phrases():
    out = py(f"""
        now = datetime(2021, 6, 10, 8, 0, 0)
        out = {{}}
        for phrase in {list(PHRASES)!r}:
            when = util.parse_datetime(phrase, now)
            out[phrase] = [str(datetime.fromtimestamp(when.timestamp())),
                           when.tzinfo is not None or phrase == "now"]
        print(json.dumps(out))
    """, env=clean_env(TZ="UTC"))
    assert out == {phrase: [when, True] for phrase, when in PHRASES.items()}


def test_parse_datetime_errors_and_default_now():
    out = py(f"""
        now = datetime(2021, 6, 10, 8, 0, 0)
        out = [err(lambda p=p: util.parse_datetime(p, now)) for p in {INVALID!r}]
        # default now: the current local time, aware, sub-second
        a = datetime.now().timestamp()
        n = util.parse_datetime("now")
        b = util.parse_datetime("+1s").timestamp()
        out.append([n.tzinfo is not None, a <= n.timestamp() <= b - 1])
        # an aware now in another zone is read as local time
        from datetime import timezone, timedelta
        east = datetime(2021, 6, 10, 10, 0, tzinfo=timezone(timedelta(hours=2)))
        out.append(str(util.parse_datetime("tomorrow", east).replace(tzinfo=None)))
        print(json.dumps(out))
    """, env=clean_env(TZ="UTC"))
    errors, (aware, recent), tomorrow = out[:-2], out[-2], out[-1]
    assert errors[0] == ["ValueError", 'Invalid datetime: "blursday"']
    assert [e[0] for e in errors] == ["ValueError"] * len(INVALID)
    assert errors[2] == ["ValueError", "invalid Flux standard duration"]
    assert aware and recent
    assert tomorrow == "2021-06-11 00:00:00"


# -- argparse helpers -----------------------------------------------------------


def test_treedict_yesno_and_filter_actions():
    out = py("""
        p = argparse.ArgumentParser()
        p.add_argument("--conf", action=util.TreedictAction, nargs="+", default={})
        p.add_argument("--flag", action=util.YesNoAction)
        p.add_argument("--state", action=util.FilterAction)
        p.add_argument("--states", action=util.FilterActionSetUpdate, default=set())
        p.add_argument("--user", action=util.FilterActionUser)
        p.add_argument("--all", action=util.FilterTrueAction)
        a = p.parse_args(["--conf", "a.b=1", "a.c=x", "d={\\"e\\": [1]}", "f=true",
                          "--flag=yes"])
        out = [a.conf, a.flag, a.all, hasattr(a, "filtered")]
        a = p.parse_args(["--flag=no", "--state", "run", "--states=a,b", "--states=c",
                          "--user", "bob", "--all"])
        out.append([a.flag, a.state, sorted(a.states), a.user, a.all, a.filtered,
                    a.filtereduser])
        out.append(err(lambda: p.parse_args(["--conf", "novalue"])))
        out.append(err(lambda: p.parse_args(["--flag=maybe"])))
        print(json.dumps(out))
    """)
    assert out == [
        {"a": {"b": 1, "c": "x"}, "d": {"e": [1]}, "f": True}, True, False, False,
        [False, "run", ["a", "b", "c"], "bob", True, True, True],
        ["ValueError", "Missing required value for key novalue"],
        ["ValueError", "--flag requires either 'yes' or 'no'"],
    ]


def test_color_action():
    out = py("""
        from unittest.mock import patch
        def parse(args):
            p = argparse.ArgumentParser()
            p.add_argument("--color", action=util.ColorAction)
            return p.parse_args(args).color
        out = []
        for args in ([], ["--color"], ["--color=never"], ["--color=always"]):
            c = parse(args)
            out.append([c, c.enabled, isinstance(c, str)])
        with patch.dict(os.environ, {"NO_COLOR": "1"}):
            out.append([parse([]), parse(["--color=auto"])])
        for tty in (True, False):
            with patch.object(sys.stdout, "isatty", return_value=tty):
                out.append(parse(["--color=auto"]).enabled)
        with contextlib.redirect_stderr(io.StringIO()) as e:
            out.append([err(lambda: parse(["--color=bogus"])), e.getvalue().splitlines()[-1]])
        print(json.dumps(out))
    """, env=clean_env(NO_COLOR=""))
    assert out == [
        ["auto", False, True],  # stdout is a pipe here
        ["always", True, True],
        ["never", False, True],
        ["always", True, True],
        ["never", "auto"],
        True, False,
        [["SystemExit", 2], "-c: error: Invalid argument to --color: 'bogus'"],
    ]


def test_help_formatter_layout():
    out = py("""
        class Hidden(argparse.Action):
            def __init__(self, *a, **kw):
                super().__init__(*a, **kw)
                self.hidden_option_strings = ["--old-name"]
            def __call__(self, *a):
                pass
        p = argparse.ArgumentParser(prog="flux-x", formatter_class=util.help_formatter(),
                                    description="line one\\n  line two")
        p.add_argument("-v", "--verbose", action="store_true", help="be loud")
        p.add_argument("--count", type=int, help="how many")
        p.add_argument("-n", "--nodes", metavar="N", help="node count")
        p.add_argument("--new-name", "--old-name", action=Hidden, help="renamed")
        p.add_argument("file", help="input")
        raw = argparse.ArgumentParser(prog="r", description="line one\\n  line two",
                                      formatter_class=util.help_formatter(raw_description=True))
        print(json.dumps([p.format_help().splitlines(), raw.format_help().splitlines()]))
    """, env=clean_env(COLUMNS="80"))
    help_lines, raw_lines = out
    # help starts after the longest option (25 columns here, under 40)
    assert help_lines[2:] == [
        "line one line two",
        "",
        "positional arguments:",
        "  file                     input",
        "",
        "options:",
        "  -h, --help               show this help message and exit",
        "  -v, --verbose            be loud",
        "      --count=COUNT        how many",
        "  -n, --nodes=N            node count",
        "      --new-name=NEW_NAME  renamed",
    ]
    assert raw_lines[2:4] == ["line one", "  line two"]


def test_climain_exit_codes_and_messages():
    cases = {
        "return": ("pass", 0, ""),
        "exit3": ("sys.exit(3)", 3, ""),
        "exitmsg": ("sys.exit('bye')", 1, "bye\n"),
        "oserror": ("open('/nonexistent/x')", 1,
                    "flux-t: ERROR: No such file or directory: '/nonexistent/x'\n"),
        "value": ("raise ValueError('bad value')", 1, "flux-t: ERROR: bad value\n"),
        "info": ("logging.getLogger('flux-t').info('hello')", 0, "flux-t: INFO: hello\n"),
        "debug": ("logging.getLogger('flux-t').debug('hidden')", 0, ""),
    }
    for name, (body, code, stderr) in cases.items():
        r = run_py(f"""
            import logging
            def main():
                {body}
            util.CLIMain(logging.getLogger("flux-t"))(main)
        """)
        assert (name, r.returncode, r.stderr) == (name, code, stderr)
    r = run_py("""
        import logging
        def main():
            logging.getLogger("flux-t").debug("shown")
            raise KeyError("k")
        util.CLIMain(logging.getLogger("flux-t"))(main)
    """, env=clean_env(FLUX_PYCLI_LOGLEVEL="10"))
    lines = r.stderr.splitlines()
    assert r.returncode == 1
    assert lines[:2] == ["flux-t: DEBUG: shown", "flux-t: ERROR: 'k'"]
    assert lines[2] == "flux-t: DEBUG: Traceback (most recent call last):"
    assert lines[-2:] == ["KeyError: 'k'", ""]  # the logged traceback ends in a newline


# -- message and future helpers -------------------------------------------------


def test_encode_payload_and_topic():
    out = py("""
        out = [repr(util.encode_payload(p)) for p in
               (None, "héllo", b"\\x00raw", {"a": [1, "é"]}, [1, 2], 5)]
        out += [repr(util.encode_topic(t)) for t in ("a.b", b"c.d")]
        out.append(err(lambda: util.encode_topic(None)))
        e = None
        try:
            util.encode_topic(None)
        except OSError as exc:
            e = exc.errno
        out.append(e)
        out.append(err(lambda: util.encode_topic(5))[0])
        print(json.dumps(out))
    """)
    assert out == [
        "None", repr("héllo".encode()), "b'\\x00raw'", repr('{"a": [1, "é"]}'.encode()),
        "b'[1, 2]'", "b'5'", "b'a.b'", "b'c.d'",
        ["OSError", "[Errno 22] Topic must not be None/NULL"], 22, "TypeError",
    ]


def test_check_future_error_and_interruptible_without_broker():
    out = py("""
        class Fut:
            def __init__(self, text): self.text = text
            def error_string(self): return self.text
            def get_flux(self): return object()
            @util.check_future_error
            def get(self, errnum):
                raise OSError(errnum, "generic")
            @util.interruptible
            def wait(self):
                return signal.getsignal(signal.SIGINT) == signal.SIG_DFL
        class Wrapper:
            handle = Fut(b"from the handle")
            @util.check_future_error
            def get(self):
                raise OSError(5, "generic")
        out = []
        for fut in (Fut("server said no"), Fut(None), Fut("")):
            try:
                fut.get(2)
            except OSError as e:
                out.append([type(e).__name__, e.errno, e.strerror])
        try:
            Wrapper().get()
        except OSError as e:
            out.append([e.errno, e.strerror])
        out.append([Fut("x").get.__name__, Fut("x").wait(),
                    signal.getsignal(signal.SIGINT) == signal.default_int_handler])
        print(json.dumps(out))
    """)
    assert out == [
        ["FileNotFoundError", 2, "server said no"],
        ["FileNotFoundError", 2, "generic"],
        ["FileNotFoundError", 2, "generic"],
        [5, "from the handle"],
        ["get", True, True],
    ]


def test_check_future_error_with_a_real_rpc(instance):
    r = instance.run("python", "-c", textwrap.dedent("""
        import json, flux
        from flux.util import check_future_error
        @check_future_error
        def get(fut):
            return fut.get()
        fut = flux.Flux().rpc("nosuch.method", {})
        try:
            get(fut)
        except OSError as e:
            print(json.dumps([e.errno, e.strerror == fut.error_string()]))
    """))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [38, True]


# -- Deduplicator and Tree ------------------------------------------------------


def test_deduplicator_combines_lines_that_print_alike():
    out = py("""
        class Row:
            def __init__(self, state, queue, nnodes):
                self.state, self.queue, self.nnodes = state, queue, nnodes
        fmt = util.OutputFormat("+:{state:>5} {queue} {nnodes:>6}",
                                headings={"state": "STATE", "queue": "QUEUE",
                                          "nnodes": "NNODES"})
        def add(kept, new):
            kept.nnodes += new.nnodes
        d = util.Deduplicator(fmt, except_fields=["nnodes"], combine=add)
        for r in (Row("up", "a", 1), Row("down", "a", 2), Row("up", "a", 4),
                  Row("up", "b", 8)):
            d.append(r)
        plain = util.Deduplicator(fmt)
        for r in (Row("up", "a", 1), Row("up", "a", 1), Row("up", "a", 2)):
            plain.append(r)
        print(json.dumps([[(r.state, r.queue, r.nnodes) for r in d],
                          [(r.state, r.nnodes) for r in d], len(d),
                          d.formatter.get_format_prepended(""),
                          [(r.state, r.nnodes) for r in plain]]))
    """)
    assert out == [
        [["up", "a", 5], ["down", "a", 2], ["up", "b", 8]],
        [["up", 5], ["down", 2], ["up", 8]],  # iterates again
        3,
        "{state} {queue}",
        [["up", 1], ["up", 2]],
    ]


def test_tree_render_prefix_levels_and_truncation():
    out = py("""
        t = util.Tree(".", prefix="P0", combine_children=True)
        a = t.append("job", prefix="P1")
        a.append("task", prefix="T")
        a.append("task", prefix="T")
        a.append("shell").append("deep")
        t.append("job", prefix="P1")
        t.append("other", prefix="P2")
        leaf = util.Tree("leaf", combine_children=True)
        t.append_tree(leaf)
        t.append_tree(util.Tree("leaf"))
        out = []
        for kwargs in ({}, {"style": "ascii", "level": 1}, {"skip_root": True, "level": 1}):
            out.append(printed(lambda: t.render(truncate=False, **kwargs))[1].splitlines())
        os.environ["COLUMNS"] = "12"
        out.append(printed(lambda: t.render(style="compact"))[1].splitlines())
        print(json.dumps(out))
    """)
    # a prefix is a column of its node's line only
    assert out == [
        [
            "P0 .",
            "P1 ├── 2*[job]",
            "T │   ├── 2*[task]",
            "│   └── shell",
            "│       └── deep",
            "P2 ├── other",
            "└── 2*[leaf]",
        ],
        ["P0 .", "P1 |-- 2*[job]", "P2 |-- other", "`-- 2*[leaf]"],
        ["P1 2*[job]", "T ├── 2*[task]", "└── shell", "P2 other", "2*[leaf]"],
        ["P0 .", "P1 ├─2*[job]", "T │ ├─2*[ta+", "│ └─shell", "│   └─deep", "P2 ├─other",
         "└─2*[leaf]"],
    ]


# -- configuration --------------------------------------------------------------


def test_dict_merge_and_xdg_searchpath():
    out = py("""
        src = {"a": {"b": 1, "c": {"d": 2}}, "e": 3, "f": {"g": 1}}
        res = util.dict_merge(src, {"a": {"c": {"x": 9}, "b": 5}, "e": {"h": 1}, "f": 7})
        paths = [str(p) for p in util.xdg_searchpath()]
        sub = [str(p) for p in util.xdg_searchpath("sub")]
        os.environ.pop("XDG_CONFIG_HOME")
        os.environ.pop("XDG_CONFIG_DIRS")
        default = [str(p) for p in util.xdg_searchpath()]
        print(json.dumps([res is src, src, paths, sub, default]))
    """, env=clean_env(XDG_CONFIG_HOME="/h/conf", XDG_CONFIG_DIRS="/s1:/s2", HOME="/home/u"))
    assert out == [
        True,
        {"a": {"b": 5, "c": {"d": 2, "x": 9}}, "e": {"h": 1}, "f": 7},
        ["/h/conf/flux", "/s1/flux", "/s2/flux"],
        ["/h/conf/flux/sub", "/s1/flux/sub", "/s2/flux/sub"],
        ["/home/u/.config/flux", "/etc/xdg/flux"],
    ]


CONFIG_CLASS = """
class Conf(util.UtilConfig):
    builtin_formats = {"default": {"description": "builtin", "format": "{id}"},
                       "long": {"format": "{id} {name}"}}
    def __init__(self, subcommand=None):
        super().__init__("flux-tool", subcommand=subcommand,
                         initial_dict={"formats": dict(self.builtin_formats), "n": 1})
    def validate(self, path, conf):
        if "formats" in conf:
            self.validate_formats(path, conf["formats"])
"""


def test_util_config_loads_files_by_precedence(tmp_path):
    home, system = tmp_path / "home", tmp_path / "sys"
    (home / "flux").mkdir(parents=True)
    (system / "flux").mkdir(parents=True)
    (system / "flux" / "flux-tool.toml").write_text(
        'n = 2\nm = "sys"\n[formats.mine]\ndescription = "sys"\nformat = "{a}"\n'
        '[sub]\nk = 1\n')
    (home / "flux" / "flux-tool.json").write_text('{"m": "home-json", "sub": {"j": 2}}')
    (home / "flux" / "flux-tool.yaml").write_text("m: home-yaml\nformats:\n  mine:\n    format: '{b}'\n")
    (home / "flux" / "flux-tool.txt").write_text("ignored")
    (home / "flux" / "other.toml").write_text("x = [")
    out = py(prelude=CONFIG_CLASS, code="""
        c = Conf().load()
        s = Conf(subcommand="sub").load()
        n = Conf(subcommand="nosuch").load()
        print(json.dumps([c.n, c.m, c.formats["mine"], c.dict["sub"], sorted(c.formats),
                          s.k, s.j, s.config, err(lambda: s.m), n.n,
                          err(lambda: c.nosuch)]))
    """, env=clean_env(XDG_CONFIG_HOME=home, XDG_CONFIG_DIRS=system))
    assert out == [
        2, "home-yaml", {"description": "sys", "format": "{b}"}, {"k": 1, "j": 2},
        ["default", "long", "mine"], 1, 2, {"k": 1, "j": 2}, ["KeyError", "'m'"], 2,
        ["KeyError", "'nosuch'"],
    ]


def test_util_config_rejects_bad_files(tmp_path):
    cases = {
        "flux-tool.toml": ("x = [", "flux-tool.toml: "),
        "flux-tool.json": ("{", "flux-tool.json: "),
        "flux-tool.yaml": ("a: [", "flux-tool.yaml: "),
    }
    bad_formats = {
        '{"formats": []}': "the 'formats' key must be a mapping",
        '{"formats": {"long": {"format": "{x}"}}}': "override of builtin format 'long' not permitted",
        '{"formats": {"f": 1}}': "'formats.f' must be a mapping",
        '{"formats": {"f": {}}}': "formats.f: required key 'format' missing",
        '{"formats": {"f": {"format": 1}}}': "formats.f: 'format' key must be a string",
    }
    for i, (name, (text, start)) in enumerate(list(cases.items())
                                              + [("flux-tool.json", (t, "")) for t in bad_formats]):
        home = tmp_path / str(i)
        (home / "flux").mkdir(parents=True)
        (home / "flux" / name).write_text(text)
        out = py(prelude=CONFIG_CLASS, code="""
            print(json.dumps(err(lambda: Conf().load())))
        """, env=clean_env(XDG_CONFIG_HOME=home, XDG_CONFIG_DIRS=tmp_path / "none"))
        path = str(home / "flux" / name)
        assert out[0] == "ValueError"
        assert out[1].startswith(f"{path}: "), out
        if text in bad_formats:
            assert out[1] == f"{path}: {bad_formats[text]}"


def test_util_config_get_format_string(tmp_path):
    out = py(prelude=CONFIG_CLASS, code="""
        c = Conf().load()
        s = Conf(subcommand="sub")
        s.config = {"formats": {"x": {"format": "{x}", "description": "the x"}}}
        g = c.get_format_string
        out = [g("{literal} {fmt}"), g("long"), g("default"),
               err(lambda: g("nosuch")), err(lambda: g("get-config=nosuch")),
               printed(lambda: g("help")), printed(lambda: g("get-config=default")),
               printed(lambda: g("get-config=long")), printed(lambda: s.get_format_string("get-config=x"))]
        os.environ["FLUX_TOOL_FORMAT_DEFAULT"] = "long"
        out.append(g("default"))
        os.environ["FLUX_TOOL_FORMAT_DEFAULT"] = "{env} {fmt}"
        out.append(g("default"))
        os.environ["FLUX_TOOL_SUB_FORMAT_DEFAULT"] = "{sub}"
        out.append([s.get_format_string("default"), s._default_env_name()])
        print(json.dumps(out))
    """, env=clean_env(XDG_CONFIG_HOME=tmp_path, XDG_CONFIG_DIRS=tmp_path))
    assert out == [
        "{literal} {fmt}", "{id} {name}", "{id}",
        ["ValueError", "--format: No such format nosuch (Did you mean '{nosuch}'?)"],
        ["ValueError", "--format: No such format nosuch"],
        [["SystemExit", 0],
         "\nConfigured flux-tool output formats:\n\n  default      builtin\n  long        \n"],
        [["SystemExit", 0],
         '[formats.default]\ndescription = "builtin"\nformat = "{id}"\n'],
        [["SystemExit", 0], '[formats.long]\nformat = "{id} {name}"\n'],
        [["SystemExit", 0], '[sub.formats.x]\ndescription = "the x"\nformat = "{x}"\n'],
        "{id} {name}", "{env} {fmt}",
        ["{sub}", "FLUX_TOOL_SUB_FORMAT_DEFAULT"],
    ]
