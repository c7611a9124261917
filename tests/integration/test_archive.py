"""flux archive: RFC 37 archives in the KVS, small files inline and large
ones as content-store chunks, listed, extracted faithfully (on another
rank too), appended, replaced and removed."""

import json
import os
import stat

from conftest import flux, wait_until_running


def test_archive_create_list_extract_remove(instance, tmp_path):
    wait_until_running(instance)
    src = tmp_path / "src"
    (src / "dir" / "sub").mkdir(parents=True)
    small = os.urandom(100)
    big = os.urandom(300_000)
    (src / "dir" / "small").write_bytes(small)
    (src / "dir" / "sub" / "big").write_bytes(big)
    (src / "dir" / "empty").write_bytes(b"")
    (src / "dir" / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(src / "dir" / "run.sh", 0o750)
    os.symlink("small", src / "dir" / "link")

    def run(*args, **kw):
        return instance.run("archive", *args, **kw)

    r = run("create", "-C", str(src), "--chunksize=64K", "--preserve", "dir")
    assert r.returncode == 0, r.stderr
    arc = json.loads(instance.run("kvs", "get", "archive.main").stdout)
    by_path = {o["path"]: o for o in arc}
    assert by_path["dir/small"]["encoding"] == "base64"
    assert by_path["dir/sub/big"]["encoding"] == "blobvec"
    assert len(by_path["dir/sub/big"]["data"]) == 5  # 300000 bytes in 64K chunks
    assert "encoding" not in by_path["dir/empty"] and by_path["dir/empty"]["size"] == 0
    assert by_path["dir/link"]["data"] == "small"
    assert instance.run("kvs", "ls", "archive.main_blobs").returncode == 0

    assert run("create", "-C", str(src), "dir").returncode == 1  # exists
    r = run("list", "-l", "dir/run.sh")
    assert r.stdout == "f 0750       10 dir/run.sh\n", r.stdout
    assert run("list").stdout.split()[0] == "dir"

    out = tmp_path / "out"
    out.mkdir()
    r = run("extract", "-C", str(out), "-v")
    assert r.returncode == 0, r.stderr
    assert (out / "dir" / "small").read_bytes() == small
    assert (out / "dir" / "sub" / "big").read_bytes() == big
    assert (out / "dir" / "empty").read_bytes() == b""
    assert stat.S_IMODE(os.stat(out / "dir" / "run.sh").st_mode) == 0o750
    assert os.readlink(out / "dir" / "link") == "small"
    # RFC 37 keeps whole seconds.
    assert int(os.stat(out / "dir" / "sub" / "big").st_mtime) == int(
        os.stat(src / "dir" / "sub" / "big").st_mtime)

    r = run("extract", "-C", str(out), "nomatch")
    assert r.returncode == 0 and "No files matched pattern 'nomatch'" in r.stderr

    (src / "more").write_text("more\n")
    assert run("create", "--append", "-C", str(src), "more").returncode == 0
    assert run("list").stdout.split()[-1] == "more"
    assert run("create", "--overwrite", "-C", str(src), "more").returncode == 0
    assert run("list").stdout.split() == ["more"]

    assert run("remove").returncode == 0
    assert instance.run("kvs", "get", "archive.main").returncode != 0
    r = run("remove")
    assert r.returncode == 1 and "archive.main does not exist" in r.stderr
    assert run("remove", "-f").returncode == 0
    assert run("list").returncode == 1


def test_archive_refuses_bad_input(instance, tmp_path):
    wait_until_running(instance)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r = instance.run("archive", "create", "-C", str(tmp_path), "fifo")
    assert r.returncode == 1 and "unsupported file type" in r.stderr
    assert instance.run("archive", "create", "--overwrite", "--append", ".").returncode == 1
    assert instance.run("archive", "create", "-C", "/nonexistent", ".").returncode == 1
    # An archive that would write outside the directory is refused.
    bad = [{"path": "../escape", "mode": 0o100644, "size": 1, "encoding": "base64",
            "data": "eA=="}]
    instance.run("kvs", "put", "archive.bad=" + json.dumps(bad))
    r = instance.run("archive", "extract", "-n", "bad", "-C", str(tmp_path))
    assert r.returncode == 1 and "unsafe path" in r.stderr
    assert not (tmp_path.parent / "escape").exists()


def test_archive_extract_on_another_rank(tmp_path):
    src = tmp_path / "data"
    src.mkdir()
    (src / "f").write_bytes(os.urandom(5000))
    dest = tmp_path / "dest"
    script = (f"flux exec -r 1 flux archive extract --waitcreate -C {dest} & "
              f"flux archive create -C {tmp_path} data && wait")
    dest.mkdir()
    r = flux("start", "--test-size=2", script, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (dest / "data" / "f").read_bytes() == (src / "f").read_bytes()
