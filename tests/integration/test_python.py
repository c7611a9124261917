"""The flux Python package (flux._core over libflux): flux python imports
it, RPCs and their errors, the KVS, IDset, and flux modprobe running a
Python rc file against a real broker."""

import textwrap

from conftest import flux, wait_until_running


def py(inst, code, **kw):
    return inst.run("python", "-c", textwrap.dedent(code), **kw)


def test_rpc_errors_kvs_and_idset(instance):
    wait_until_running(instance)
    r = py(instance, """
        import errno, flux, flux.kvs
        from flux.idset import IDset
        h = flux.Flux()
        print(h.rpc("broker.ping", {"seq": 7}).get()["seq"])
        print(h.attr_get("size"))
        try:
            h.rpc("nosuch.service").get()
        except OSError as e:
            print("error", e.errno == errno.ENOSYS)
        flux.kvs.put(h, "py.a", {"x": [1, 2]})
        flux.kvs.put_mkdir(h, "py.dir")
        flux.kvs.commit(h)
        print(flux.kvs.get(h, "py.a")["x"], flux.kvs.isdir(h, "py.dir"),
              flux.kvs.exists(h, "py.none"))
        print(IDset("0-3,7"), IDset().set(0, 2).set(5), len(IDset("1-4")))
        h.log(6, "hello from python")
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["7", "1", "error True", "[1, 2] True False",
                                     "0-3,7 0-2,5 4"]
    assert "hello from python" in instance.run("dmesg").stdout


def test_flux_python_outside_an_instance():
    r = flux("python", "-c", "import flux, flux.constants; print(flux.constants.FLUX_NODEID_ANY)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(0xFFFFFFFF)
    assert flux("python", "--get-path").stdout.strip() == "/usr/bin/python3"


def test_modprobe_runs_an_rc_file(tmp_path):
    """rc1/rc3 as flux-core's test personalities write them: modules loaded
    in dependency order with their options, tasks before/after modules."""
    rc1 = tmp_path / "rc1.py"
    rc1.write_text(textwrap.dedent("""
        from flux.modprobe import task

        def setup(context):
            context.setopt("content", "purge-target-size=1048576")
            context.load_modules(["kvs", "content", "content-backing", "kvs-watch"])

        @task("mark", ranks="0", after=["kvs"])
        def mark(context):
            import flux.kvs
            flux.kvs.put(context.handle, "marked", 1)
            flux.kvs.commit(context.handle)
    """))
    rc3 = tmp_path / "rc3.py"
    rc3.write_text("def setup(context):\n    context.remove_modules()\n")
    script = ("flux module list | sort && flux kvs get marked && "
              "flux modprobe list-dependencies kvs-watch")
    r = flux("start", f"-Sbroker.rc1_path=flux modprobe run {rc1}",
             f"-Sbroker.rc3_path=flux modprobe run {rc3}", script, timeout=120)
    assert r.returncode == 0, r.stderr
    names = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
    for m in ("content", "content-sqlite", "kvs", "kvs-watch"):
        assert m in names, r.stdout
    assert "1" in r.stdout.splitlines()
    assert r.stdout.splitlines()[-2:] == [
        "    └── content", "        └── content-backing (content-sqlite)"]


def test_a_dropped_handle_still_answers(instance):
    """flux.Flux().rpc(...).get(): the RPC keeps its handle alive."""
    wait_until_running(instance)
    r = py(instance, """
        import gc, flux
        f = flux.Flux().rpc("broker.ping", {"seq": 9})
        gc.collect()
        print(f.get()["seq"])
        h = flux.Flux()
        h.close()
        try:
            h.rpc("broker.ping").get()
        except OSError as e:
            print("closed", e.errno)
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["9", "closed", "22"]


def test_core_inner_job_names():
    """flux.core.inner's conversions, as flux-core's job-conv.py test tool uses them."""
    code = textwrap.dedent("""
        from flux.core.inner import ffi, raw
        print(raw.flux_job_statetostr(16, "L").decode(), raw.flux_job_statetostr(64, "S").decode())
        out = ffi.new("flux_job_state_t [1]")
        raw.flux_job_strtostate("sched", out)
        print(out[0])
        print(raw.flux_job_resulttostr(4, "S").decode(), raw.flux_job_resulttostr(1, "L").decode())
        res = ffi.new("flux_job_result_t [1]")
        raw.flux_job_strtoresult("TO", res)
        print(res[0])
        try:
            raw.flux_job_strtostate("bogus", out)
        except OSError as e:
            print("error", e.errno)
    """)
    r = flux("python", "-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["RUN I", "8", "CA COMPLETED", "8", "error 22"]


def test_install_makes_the_package_importable(tmp_path):
    """cmake --install puts the package under the prefix, and a flux.pth in
    the prefix's site directory that makes Debian's python3 find it."""
    import subprocess
    import sys
    from conftest import BUILD

    prefix = tmp_path / "prefix"
    r = subprocess.run(["cmake", "--install", str(BUILD), "--prefix", str(prefix)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    pths = list(prefix.glob("lib/python3*/dist-packages/flux.pth"))
    assert len(pths) == 1, r.stdout
    code = textwrap.dedent(f"""
        import site
        site.addsitedir({str(pths[0].parent)!r})
        import flux, flux.job, flux.idset
        print(flux.__file__)
        print(flux.idset.IDset("1-3").count(), flux.job.JobID(1).f58)
    """)
    r = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True,
                       timeout=30, env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    path, values = r.stdout.splitlines()
    assert path.startswith(str(prefix)) and path.endswith("flux/__init__.py")
    assert values == "3 ƒ2"
    assert list(prefix.glob("lib*/flux/python3/flux/_core.pyi"))
