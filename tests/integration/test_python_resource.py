"""flux.resource (ResourceSet, resource_list, resource_status) and
flux.util.OutputFormat, through the real `flux python`.

ResourceSet and OutputFormat are pure computation: each test runs a
snippet outside any instance that prints JSON, compared here with what
flux-core's Python gives. resource_list/resource_status run once against a
2-broker instance with a configured R (hosts node0, node1), rank 1
drained and a job holding 2 cores of rank 0."""

import json
import textwrap

import pytest
from conftest import flux
from pysnippet import ERR_BY_TEXT, run_json

PRELUDE = ("""
import io, json, os, sys, time, contextlib
from flux.hostlist import Hostlist
from flux.idset import IDset
from flux.resource import ResourceSet, SchedResourceList, ResourceStatus
from flux.util import OutputFormat, DisplayValue
""" + ERR_BY_TEXT + """
def R(ranks, children, nodelist=None, **extra):
    ex = {"R_lite": [{"rank": ranks, "children": children}], "starttime": 0, "expiration": 0}
    if nodelist:
        ex["nodelist"] = [nodelist]
    ex.update(extra)
    return {"version": 1, "execution": ex}

FLUKE = R("0-3", {"core": "0-3", "gpu": "0"}, "fluke[0-3]")
""")


def py(code):
    return run_json(PRELUDE, code)


# -- ResourceSet ------------------------------------------------------------


def test_resource_set_from_string_dict_and_nothing():
    out = py("""
        out = []
        for arg in (json.dumps(FLUKE), FLUKE):
            r = ResourceSet(arg)
            out.append([str(r), r.rlist, r.ncores, r.ngpus, r.nnodes, str(r.nodelist),
                        str(r.ranks), r.ranks.count(), r.count("core"), r.count("gpu"),
                        r.count("bogus"), isinstance(r.ranks, IDset),
                        isinstance(r.nodelist, Hostlist), r.state, r.version])
        e = ResourceSet()
        out.append([str(e), e.nnodes, e.ncores, e.ngpus, str(e.ranks), len(e.nodelist)])
        print(json.dumps(out))
    """)
    full = ["rank[0-3]/core[0-3],gpu0", "rank[0-3]/core[0-3],gpu0", 16, 4, 4, "fluke[0-3]",
            "0-3", 4, 16, 4, 0, True, True, None, 1]
    assert out == [full, full, ["", 0, 0, 0, "", 0]]


def test_resource_set_invalid_input():
    out = py("""
        print(json.dumps([err(lambda a=a: ResourceSet(a))[0] for a in (
            (1, 2), "", "{", {}, {"version": 199}, json.dumps({"version": 2}),
            R("x", {"core": "0"}), R("0", {"core": "1-0"}),
            R("0-1", {"core": "0"}, "a[0-2]"),
        )]))
    """)
    assert out == ["TypeError", "JSONDecodeError", "JSONDecodeError", "KeyError",
                   "ValueError", "ValueError", "ValueError", "ValueError", "ValueError"]


def test_resource_set_short_form_groups_like_ranks():
    """Ranks with equal resources share a group, in rank order; one id
    prints bare, several in brackets; R_lite entries for a rank merge."""
    out = py("""
        r = ResourceSet({"version": 1, "execution": {"R_lite": [
            {"rank": "3", "children": {"core": "0-3"}},
            {"rank": "0,2", "children": {"core": "0-3", "gpu": "0-1"}},
            {"rank": "1", "children": {"core": "0-1"}},
            {"rank": "1", "children": {"core": "2-3", "gpu": "0-1"}},
            {"rank": "5", "children": {"core": "7"}}]}})
        print(json.dumps([str(r), r.ncores, r.ngpus, str(r.ranks), len(r.nodelist)]))
    """)
    assert out == ["rank[0-2]/core[0-3],gpu[0-1] rank3/core[0-3] rank5/core7", 17, 6,
                   "0-3,5", 0]


def test_resource_set_operations():
    out = py("""
        a = ResourceSet(FLUKE)
        b = a.copy().remove_ranks("2-3")
        core0 = ResourceSet(R("0", {"core": "0"}))
        gpu = ResourceSet(R("0", {"gpu": "0"}))
        a.state = "up"
        print(json.dumps([
            str(a - b), str((a - b) | a), str(a & b), str(a - core0), (a - core0).ncores,
            str(core0 | gpu), str(core0 & gpu), str(a - a),
            str(a.union(ResourceSet(R("5", {"core": "0-1"})), ResourceSet(R("10", {"core": "0"})))),
            str(a.diff(a.copy_ranks("0-1"), a.copy_ranks(3))),
            str(a.intersect(a.copy_ranks("0-2"), a.copy_ranks(IDset("1-3")))),
            [(a - b).state, (a | b).state, (a & b).state, a.copy().state,
             a.copy_ranks("1").state, (b - a).state],
            str(a), str(b), isinstance(a - b, ResourceSet),
        ]))
    """)
    assert out == [
        "rank[2-3]/core[0-3],gpu0",
        "rank[0-3]/core[0-3],gpu0",
        "rank[0-1]/core[0-3],gpu0",
        "rank0/core[1-3],gpu0 rank[1-3]/core[0-3],gpu0", 15,
        "rank0/core0,gpu0", "", "",
        "rank[0-3]/core[0-3],gpu0 rank5/core[0-1] rank10/core0",
        "rank2/core[0-3],gpu0",
        "rank[1-2]/core[0-3],gpu0",
        ["up", "up", "up", "up", "up", None],
        "rank[0-3]/core[0-3],gpu0", "rank[0-1]/core[0-3],gpu0", True,
    ]


def test_resource_set_copy_ranks_remove_ranks_append_add():
    out = py("""
        a = ResourceSet(FLUKE)
        c = a.copy()
        c.remove_ranks(0)
        r4 = R("4", {"core": "0-3", "gpu": "0"})
        appended = ResourceSet(FLUKE).append(ResourceSet(r4))
        added = ResourceSet(FLUKE).add(r4, ResourceSet(r4))
        merged = ResourceSet(R("0", {"core": "0-3"})).append(R("0", {"core": "4-7"}))
        print(json.dumps([
            str(a), str(c), str(a.copy_ranks("0")), str(a.copy_ranks(IDset("0,3"))),
            str(a.copy_ranks("7")), str(ResourceSet(FLUKE).remove_ranks(IDset("0,3"))),
            str(a.copy_ranks("1-2").nodelist),
            [str(appended.ranks), appended.ncores, appended.ngpus],
            [str(added.ranks), added.ncores, added.ngpus], str(merged),
            err(lambda: a.copy_ranks("bogus"))[0],
        ]))
    """)
    assert out == [
        "rank[0-3]/core[0-3],gpu0", "rank[1-3]/core[0-3],gpu0", "rank0/core[0-3],gpu0",
        "rank[0,3]/core[0-3],gpu0", "", "rank[1-2]/core[0-3],gpu0", "fluke[1-2]",
        ["0-4", 20, 5], ["0-4", 20, 5], "rank0/core[0-7]", "ValueError",
    ]


def test_resource_set_encode_round_trip():
    out = py("""
        props = {"foo": "0-1", "bar": "1"}
        a = ResourceSet(R("0-1", {"core": "0-3"}, "node[0-1]", properties=props))
        a.set_property("baz", "0")
        a.starttime = 1000.5
        a.expiration = 2000
        b = ResourceSet(a.encode())
        c = ResourceSet(a.to_dict())
        print(json.dumps([json.loads(a.encode()), a.to_dict() == json.loads(a.encode()),
                          str(b), str(b.nodelist), json.loads(b.get_properties()),
                          b.starttime, b.expiration, str(c), c.expiration,
                          ResourceSet().to_dict(),
                          json.loads(ResourceSet(R("0", {"core": "0"})).encode())]))
    """)
    assert out == [
        {"version": 1, "execution": {
            "R_lite": [{"rank": "0-1", "children": {"core": "0-3"}}],
            "starttime": 1000.5, "expiration": 2000.0, "nodelist": ["node[0-1]"],
            "properties": {"foo": "0-1", "bar": "1", "baz": "0"}}},
        True, "rank[0-1]/core[0-3]", "node[0-1]", {"foo": "0-1", "bar": "1", "baz": "0"},
        1000.5, 2000.0, "rank[0-1]/core[0-3]", 2000.0,
        {"version": 1, "execution": {"R_lite": [], "starttime": 0.0, "expiration": 0.0}},
        {"version": 1, "execution": {"R_lite": [{"rank": "0", "children": {"core": "0"}}],
                                     "starttime": 0.0, "expiration": 0.0}},
    ]


def test_resource_set_properties_and_constraints():
    out = py("""
        r = ResourceSet(FLUKE)
        print(json.dumps([
            r.properties,
            str(r.set_property("xx", "0-1")),
            str(r.set_property("zz", "2-3").set_property("aa", 1)),
            err(lambda: r.set_property("x^y")), err(lambda: r.set_property("yy", "0-6")),
            err(lambda: r.set_property("yy", "foo"))[0],
            r.properties, json.loads(r.get_properties()),
            str(r.copy_constraint({"properties": ["xx"]})),
            str(r.copy_constraint({"properties": ["aa"]})),
            str(r.copy_constraint({"properties": ["foo"]})),
            str(r.copy_constraint({"not": [{"properties": ["aa", "xx"]}]})),
            str(r.copy_constraint({"properties": ["^aa", "^xx"]})),
            str(r.copy_constraint({"or": [{"properties": ["aa"]}, {"ranks": ["3"]}]})),
            str(r.copy_constraint({"and": [{"properties": ["xx"]}, {"hostlist": ["fluke[1-2]"]}]})),
            str(r.copy_constraint('{"properties": ["fluke2"]}')),
            str(r.copy_constraint({})),
            json.loads(r.copy_constraint({"properties": ["zz"]}).get_properties()),
            err(lambda: r.copy_constraint({"foo": []})),
            err(lambda: r.copy_constraint({"properties": [42]})),
            err(lambda: r.copy_constraint({"and": {}})),
            err(lambda: r.copy_constraint({"properties": ["a|b"]}))[0],
            err(lambda: r.copy_constraint({"ranks": ["x"]}))[0],
            err(lambda: r.copy_constraint({"ranks": ["0"], "hostlist": ["x"]}))[0],
        ]))
    """)
    assert out == [
        "", "rank[0-3]/core[0-3],gpu0", "rank[0-3]/core[0-3],gpu0",
        ["ValueError", "Invalid character '^' in property \"x^y\""],
        ["ValueError", "ranks 4-6 not found in target resource list"], "ValueError",
        "xx,zz,aa", {"xx": "0-1", "zz": "2-3", "aa": "1"},
        "rank[0-1]/core[0-3],gpu0", "rank1/core[0-3],gpu0", "",
        "rank[0,2-3]/core[0-3],gpu0", "rank[2-3]/core[0-3],gpu0",
        "rank[1,3]/core[0-3],gpu0", "rank1/core[0-3],gpu0", "rank2/core[0-3],gpu0",
        "rank[0-3]/core[0-3],gpu0", {"zz": "2-3"},
        ["ValueError", "unknown constraint operator: foo"],
        ["ValueError", "non-string property specified"],
        ["ValueError", "and operator value must be an array"],
        "ValueError", "ValueError", "ValueError",
    ]


def test_resource_set_host_ranks():
    out = py("""
        r = ResourceSet(R("10-13", {"core": "0"}, "fluke[10-13]"))
        print(json.dumps([
            r.host_ranks("fluke10"), r.host_ranks("fluke[13,10]"),
            r.host_ranks(Hostlist("fluke[11-12]")),
            r.host_ranks("fluke[0-2,10-12]", ignore_nomatch=True),
            err(lambda: r.host_ranks("fluke7")), err(lambda: r.host_ranks("fluke[1-2,10]")),
        ]))
    """)
    assert out == [[10], [13, 10], [11, 12], [10, 11, 12],
                   ["FileNotFoundError", "host 'fluke7' not found"],
                   ["FileNotFoundError", "hosts 'fluke[1-2]' not found"]]


def test_sched_resource_list_from_a_response():
    out = py("""
        all = R("0-3", {"core": "0-3"}, "n[0-3]")
        rl = SchedResourceList({"all": all, "down": R("3", {"core": "0-3"}, "n3"),
                                "allocated": R("0", {"core": "0-1"}, "n0")})
        names = ["all", "down", "allocated", "up", "free"]
        first = [[str(rl[n]), rl[n].state] for n in names]
        rl.up.state = "kept"  # derived sets are made once
        kept = rl.up.state
        hw = rl.copy_constraint({"hostlist": ["n[0,3]"]})
        rl.filter("n[1,3]")
        by_host = [str(rl[n]) for n in names]
        rl2 = SchedResourceList({"all": all, "down": None, "allocated": ResourceSet()})
        rl2.filter(IDset("0-1"))
        print(json.dumps([first, kept, [str(hw[n]) for n in names], by_host,
                          [str(rl2[n]) for n in names], err(lambda: rl.bogus)[0]]))
    """)
    assert out == [
        [["rank[0-3]/core[0-3]", "all"], ["rank3/core[0-3]", "down"],
         ["rank0/core[0-1]", "allocated"], ["rank[0-2]/core[0-3]", "up"],
         ["rank0/core[2-3] rank[1-2]/core[0-3]", "free"]],
        "kept",
        ["rank[0,3]/core[0-3]", "rank3/core[0-3]", "rank0/core[0-1]", "rank0/core[0-3]",
         "rank0/core[2-3]"],
        ["rank[1,3]/core[0-3]", "rank3/core[0-3]", "", "rank1/core[0-3]", "rank1/core[0-3]"],
        ["rank[0-1]/core[0-3]", "", "", "rank[0-1]/core[0-3]", "rank[0-1]/core[0-3]"],
        "AttributeError",
    ]


def test_resource_status_from_a_response():
    out = py("""
        rstatus = {"R": R("0-4", {"core": "0"}, "n[0-4]"), "online": "0-3", "offline": "4",
                   "exclude": "0", "torpid": "3",
                   "drain": {"1-2": {"timestamp": 10.0, "reason": "fix"}}}
        st = ResourceStatus(rstatus, allocated_ranks=IDset("2,4"))
        names = ["all", "online", "offline", "exclude", "torpid", "allocated",
                 "housekeeping", "drained", "draining", "avail"]
        whole = {n: str(st[n]) for n in names}
        info = st.get_drain_info(2)
        out = [whole, [str(info.ranks), info.timestamp, info.reason], st.get_drain_info(4),
               err(lambda: st.get_drain_info(9))[0], str(st.get_idset("offline", "exclude")),
               str(st.nodelist)]
        st.filter("n[2-4]")
        out.append({n: str(st[n]) for n in names})
        st.filter("1")
        out.append([str(st.drained), str(st.all), [str(d.ranks) for d in st.drain_info]])
        empty = ResourceStatus()
        out.append([str(empty.all), str(empty.avail), empty.drain_info])
        print(json.dumps(out))
    """)
    assert out == [
        {"all": "0-4", "online": "0-3", "offline": "4", "exclude": "0", "torpid": "3",
         "allocated": "2,4", "housekeeping": "", "drained": "1", "draining": "2",
         "avail": "4"},
        ["1-2", 10.0, "fix"], None, "ValueError", "0,4", "n[0-4]",
        {"all": "2-4", "online": "2-3", "offline": "4", "exclude": "", "torpid": "3",
         "allocated": "2,4", "housekeeping": "", "drained": "", "draining": "2",
         "avail": "4"},
        ["1", "1", ["1"]],
        ["", "", []],
    ]


# -- resource_list / resource_status against an instance --------------------

LIVE = """
import json, os, flux
from flux.resource import resource_list, resource_status, SchedResourceList

h = flux.Flux()
out = {}
f = resource_list(h)
rl = f.get()
out["list"] = {n: [str(rl[n]), rl[n].state, str(rl[n].nodelist)]
               for n in ("all", "up", "down", "allocated", "free")}
out["list_topic"] = f.topic
got = []
resource_list(h).then(lambda f: got.append([f.topic, str(f.get().free)]))
h.reactor_run()
out["then"] = got
os.environ["FLUX_RESOURCE_LIST_RPC"] = "nosuch.topic"
f = resource_list(h)
out["fallback"] = [str(f.get().all), f.topic]
got = []
resource_list(h).then(lambda f: got.append([f.topic, str(f.get().down)]))
h.reactor_run()
out["fallback_then"] = got
os.environ["FLUX_RESOURCE_LIST_RPC"] = "resource.acquire"  # EPROTO: no fallback
f = resource_list(h)
try:
    f.get()
except OSError as e:
    out["other_error"] = [e.errno, f.topic]
del os.environ["FLUX_RESOURCE_LIST_RPC"]
st = resource_status(h).get()
out["status"] = {n: str(st[n]) for n in ("all", "online", "offline", "exclude", "torpid",
                                           "allocated", "housekeeping", "drained",
                                           "draining", "avail")}
info = st.get_drain_info(1)
out["drain"] = [str(info.ranks), info.reason, info.timestamp > 0, st.get_drain_info(0),
                str(st.nodelist), str(st.rset)]
st.filter("node1")
out["filtered"] = [str(st.all), str(st.drained), str(st.avail)]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    d = tmp_path_factory.mktemp("rsrc")
    (d / "R.json").write_text(json.dumps({"version": 1, "execution": {
        "R_lite": [{"rank": "0-1", "children": {"core": "0-3", "gpu": "0"}}],
        "nodelist": ["node[0-1]"], "starttime": 0, "expiration": 0,
        "properties": {"fast": "1"}}}))
    (d / "live.py").write_text(LIVE)
    script = ("flux resource drain 1 testing && flux submit -N1 -n1 -c2 sleep 300 >/dev/null"
              " && flux job wait-event -t 10 $(flux job last) alloc >/dev/null"
              f" && flux python {d / 'live.py'}; rc=$?; flux cancel --all >/dev/null 2>&1;"
              " exit $rc")
    r = flux("start", "--test-size=2", "--test-hosts=node[0-1]",
             f"--conf=resource.path={d / 'R.json'}", "--conf=resource.noverify=true",
             "sh", "-c", script, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


def test_resource_list_against_the_scheduler(live):
    assert live["list"] == {
        "all": ["rank[0-1]/core[0-3],gpu0", "all", "node[0-1]"],
        "up": ["rank0/core[0-3],gpu0", "up", "node0"],
        "down": ["rank1/core[0-3],gpu0", "down", "node1"],
        "allocated": ["rank0/core[0-1]", "allocated", "node0"],
        "free": ["rank0/core[2-3],gpu0", "free", "node0"],
    }
    assert live["list_topic"] == "resource.sched-status"
    assert live["then"] == [["resource.sched-status", "rank0/core[2-3],gpu0"]]


def test_resource_list_falls_back_on_enosys(live):
    assert live["fallback"] == ["rank[0-1]/core[0-3],gpu0", "sched.resource-status"]
    assert live["fallback_then"] == [["sched.resource-status", "rank1/core[0-3],gpu0"]]
    assert live["other_error"] == [71, "resource.acquire"]  # EPROTO is not retried


def test_resource_status_against_the_instance(live):
    assert live["status"] == {"all": "0-1", "online": "0-1", "offline": "", "exclude": "",
                              "torpid": "", "allocated": "0", "housekeeping": "",
                              "drained": "1", "draining": "", "avail": "0"}
    assert live["drain"] == ["1", "testing", True, None, "node[0-1]",
                             "rank[0-1]/core[0-3],gpu0"]
    assert live["filtered"] == ["1", "1", ""]


# -- OutputFormat -------------------------------------------------------------

OF_PRELUDE = """
os.environ["TZ"] = "UTC"
time.tzset()
H = {"s": "STRING", "i": "INTEGER", "f": "FLOAT", "d": "DATETIME"}

class Item:
    def __init__(self, s="foo", i=42, f=1234.567, d=978336000.0):
        self.s, self.i, self.f, self.d = s, i, f, d

def printed(fn):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        fn()
    return buf.getvalue().splitlines()
"""


def of(code):
    return py(OF_PRELUDE + textwrap.dedent(code))


def test_output_format_fields_header_and_format():
    out = of("""
        out = []
        for fmt in ("", "{s}", "{d}", "{s:<6} {i:>7d}", "a {s:<6} b{f:>8.2f} ",
                    "{i:>7d} {d!d:%b%d %R::^20}", "sort:i,-d {i:>7d} {d!d:%b%d %R::^20}"):
            o = OutputFormat(fmt, headings=H)
            out.append([o.get_format(include_sort_prefix=False), o.header_format(),
                        sorted(o.fields), o.header(), o.format(Item()), o.get_format(orig=True)])
        out.append(err(lambda: OutputFormat("{s} {x}", headings=H)))
        out.append(err(lambda: OutputFormat("sort:x {s}", headings=H)))
        out.append(err(lambda: OutputFormat("{s}", headings=H).format({"s": 1}))[0])
        out.append(OutputFormat("{s} {i}", headings=H, prepend="").get_format())
        print(json.dumps(out))
    """)
    assert out == [
        ["", "", [], "", "", ""],
        ["{0.s}", "{s}", ["s"], "STRING", "foo", "{s}"],
        ["{0.d}", "{d}", ["d"], "DATETIME", "978336000.0", "{d}"],
        ["{0.s:<6} {0.i:>7d}", "{s:<6} {i:>7}", ["i", "s"], "STRING INTEGER",
         "foo         42", "{s:<6} {i:>7d}"],
        ["a {0.s:<6} b{0.f:>8.2f} ", "a {s:<6} b{f:>8} ", ["f", "s"], "a STRING b   FLOAT ",
         "a foo    b 1234.57 ", "a {s:<6} b{f:>8.2f} "],
        ["{0.i:>7d} {0.d!d:%b%d %R::^20}", "{i:>7} {d:^20}", ["d", "i"],
         "INTEGER       DATETIME      ", "     42     Jan01 08:00     ",
         "{i:>7d} {d!d:%b%d %R::^20}"],
        ["{0.i:>7d} {0.d!d:%b%d %R::^20}", "{i:>7} {d:^20}", ["d", "i"],
         "INTEGER       DATETIME      ", "     42     Jan01 08:00     ",
         "sort:i,-d {i:>7d} {d!d:%b%d %R::^20}"],
        ["ValueError", "Unknown format field: x"],
        ["ValueError", "Invalid sort key: x"],
        "AttributeError",
        "{s} {i}",
    ]


def test_output_format_conversions_and_suffixes():
    out = of("""
        o = OutputFormat("{s:>4h}|{i:h}|{f!F:>6h}|{d!D:h}|{d!d:%H::>6}|{f!H}|{i!P}|{s:5.3+}",
                         headings=H)
        print(json.dumps([o.format(Item("", 0, 0.0, 0)), o.format(Item("", "", "", "")),
                          o.format(Item("abcdef", 0.5, 90.0, 60.0)),
                          o.format(Item("abc", 0.001, 0.4, 978336000.0))]))
    """)
    assert out == [
        "   -|0|     -|-|      |0:00:00|0%|     ",
        "   -|-|     -|-|      |||     ",
        "abcdef|0.5|  1.5m|1970-01-01T00:01:00|    00|0:01:30|50%|abc +",
        " abc|0.001|0.400s|2001-01-01T08:00:00|    08|0:00:01|0.10%|abc  ",
    ]


def test_output_format_filter_widens_and_drops_fields():
    out = of("""
        items = [Item("", 0, 2.2), Item("", 1, 1.1), Item("", 23456789, 1.0)]
        wide = [Item("1234567890", 0, 2.2), Item("abcdefghijklmnop", 2, 13), Item("c", 4, 5.0)]
        print(json.dumps([
            OutputFormat("?+:{i:>7} ?:{s:>6} ?:{f:8.2}", headings=H).filter(items),
            OutputFormat("?+:{i:>7} ?:{s:>6} ?+:{f:.2f}", headings=H).filter(items),
            OutputFormat("?+:{i:>7} ?:{s:>6} ?+:{f:.2f}", headings=H).filter(items, no_header=True),
            OutputFormat("+:{s:5.5} +:{i:4d} +:{f:.2f}", headings=H).filter(wide),
            OutputFormat("+:{s:5.5} +:{i:4d} +:{f:.2f}", headings=H).filter(wide, no_header=True),
            OutputFormat("sort:-i {s} {i}", headings=H).filter(items),
            OutputFormat("x?:{s} y", headings=H).filter(items),
        ]))
    """)
    assert out == ["{i:>8} {f:8.2}", "{i:>8} {f:5.2f}", "{i:>8} {f:3.2f}",
                   "{s:16.16} {i:7d} {f:5.2f}", "{s:16.16} {i:4d} {f:3.2f}",
                   "sort:-i {s} {i}", " y"]


def test_output_format_copy():
    out = of("""
        orig = "+:{s:5.5} {i:4d} {f:.2f}"
        o = OutputFormat(orig, headings=H)
        print(json.dumps([o.get_format_prepended(""), o.copy().get_format_prepended(""),
                          o.copy(except_fields=["s", "f"]).get_format_prepended(""),
                          o.copy(nullify_expansion=True).get_format_prepended(""),
                          o.copy(except_fields=["i"]).get_format(),
                          type(o.copy()).__name__]))
    """)
    assert out == [
        "+:{s:5.5} {i:4d} {f:.2f}", "+:{s:5.5} {i:4d} {f:.2f}", " {i:4d}",
        "{s} {i:4d} {f:.2f}", "+:{0.s:5.5} {0.f:.2f}", "OutputFormat",
    ]


def test_output_format_sorting():
    out = of("""
        a, d, z = Item("a", 0, 2.2), Item("d", 33, 1.1), Item("z", 11, 1.0)
        o = OutputFormat("{s}:{i}:{f}", headings=H)
        out = []
        for keys in ("s", "-s", "i", "f", " , s , , i , ", "-s,,"):
            o.set_sort_keys(keys)
            out.append([x.s for x in o.sort_items([z, a, d])])
        out.append([x.s for x in OutputFormat("sort:i {s}", headings=H).sort_items([z, a, d])])
        out.append(sorted(OutputFormat("sort:f {s}", headings=H).fields))
        mixed = [Item("c", 5), Item("a", ""), Item("b", 10), Item("n", "-10"), Item("h", "100"),
                 Item("x", "abc"), Item("k", None), Item("t", True), Item("m", "-")]
        o.set_sort_keys("i")
        out.append([x.s for x in o.sort_items(mixed)])
        o.set_sort_keys("-i")
        out.append([x.s for x in o.sort_items(mixed)])
        out.append([DisplayValue("10") == DisplayValue(10), DisplayValue(None) == DisplayValue("-"),
                    DisplayValue(100) < DisplayValue("10abc"),
                    DisplayValue("1e5") < DisplayValue(10**6)])
        out.append(err(lambda: o.set_sort_keys("s,bogus")))
        print(json.dumps(out))
    """)
    assert out == [
        ["a", "d", "z"], ["z", "d", "a"], ["a", "z", "d"], ["z", "d", "a"], ["a", "d", "z"],
        ["z", "d", "a"], ["a", "z", "d"], ["f", "s"],
        ["a", "k", "m", "n", "t", "c", "b", "h", "x"],
        ["x", "h", "b", "c", "t", "n", "a", "k", "m"],
        [True, True, True, True],
        ["ValueError", "Invalid sort key: bogus"],
    ]


def test_output_format_print_items():
    out = of("""
        items = [Item("bb", 7, 1.5), Item("", 100, 2.0), Item("a", 3, 0.0)]
        o = OutputFormat("sort:i ?:{s:>3} +:{i:>2} {f!F:>6h}", headings=H)
        seen = []
        out = [printed(lambda: o.print_items(items, pre=lambda x: seen.append(x.i),
                                              post=lambda x: seen.append(-x.i))),
               seen,
               printed(lambda: o.print_items(iter(items), no_header=True)),
               printed(lambda: o.print_items([Item("", 1, 0.0)])),
               printed(lambda: o.print_items(items, width=12)),
               printed(lambda: OutputFormat("{s}", headings=H).print_items([Item(""), Item("x")]))]
        print(json.dumps(out))
    """)
    assert out == [
        ["STRING INTEGER  FLOAT", "  a       3      -", " bb       7 1.500s",
         "        100 2.000s"],
        [3, -3, 7, -7, 100, -100],
        ["  a   3      -", " bb   7 1.500s", "    100 2.000s"],
        [" INTEGER  FLOAT", "       1      -"],  # "?:" drops its own text only
        ["STRING INTE+", "  a       3+", " bb       7+", "        100+"],
        ["STRING", "x"],
    ]


def test_fsd_helpers_match_flux_core():
    out = py("""
        from flux.util import fsd, parse_fsd
        print(json.dumps([
            [parse_fsd(s) for s in ("1.5", "2ms", "30s", "1.5m", "2h", "1d", "inf", "1e3")],
            [fsd(x) for x in (0.0005, 1.5, 30.0, 90.0, 7200.0, 172800.0, float("inf"))],
            [err(lambda s=s: parse_fsd(s))[0] for s in ("", "-1s", "1x", "nan", "1s ")],
        ]))
    """)
    assert out == [
        [1.5, 0.002, 30.0, 90.0, 7200.0, 86400.0, float("inf"), 1000.0],
        ["0s", "1.500s", "30s", "1.5m", "2h", "2d", "inf"],
        ["ValueError"] * 5,
    ]
