"""flux keygen: CURVE certificates in flux-core's (czmq zcert) format."""

import os
import re
import socket
import stat

from conftest import flux

Z85 = r"[0-9a-zA-Z.\-:+=^!/*?&<>()\[\]{}@%$#]{40}"
CERT_RE = re.compile(
    r"^#  ZeroMQ CURVE \*\*Secret\*\* Certificate\n"
    r"#  DO NOT DISTRIBUTE\n"
    r"\n"
    r"metadata\n"
    r"(?P<meta>(    [A-Za-z0-9.\-]+ = \"[^\"\n]*\"\n)*)"
    r"curve\n"
    rf"    public-key = \"(?P<public>{Z85})\"\n"
    rf"    secret-key = \"(?P<secret>{Z85})\"\n$"
)


def read_cert(path):
    text = path.read_text()
    m = CERT_RE.match(text)
    assert m, f"not a certificate:\n{text}"
    meta = dict(re.findall(r'    (\S+) = "([^"]*)"\n', m.group("meta")))
    return meta, m.group("public"), m.group("secret")


def test_writes_private_certificate(tmp_path):
    path = tmp_path / "curve.cert"
    r = flux("keygen", path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    meta, public, secret = read_cert(path)
    assert public != secret
    hostname = socket.gethostname()
    assert meta["name"] == hostname
    assert meta["keygen.hostname"] == hostname
    assert meta["keygen.userid"] == str(os.getuid())
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$", meta["keygen.time"])
    assert re.match(r"^\d+\.\d+\.\d+$", meta["keygen.zmq-version"])
    assert "keygen.flux-core-version" in meta


def test_every_run_makes_new_keys(tmp_path):
    assert flux("keygen", tmp_path / "a").returncode == 0
    assert flux("keygen", tmp_path / "b").returncode == 0
    assert read_cert(tmp_path / "a")[1] != read_cert(tmp_path / "b")[1]


def test_name_and_meta(tmp_path):
    path = tmp_path / "cert"
    r = flux("keygen", "--name=cluster", "--meta", "site=lab,rack=12", "--meta=flag", path)
    assert r.returncode == 0, r.stderr
    meta = read_cert(path)[0]
    assert meta["name"] == "cluster"
    assert meta["site"] == "lab"
    assert meta["rack"] == "12"
    assert meta["flag"] == ""


def test_first_value_wins(tmp_path):
    path = tmp_path / "cert"
    r = flux("keygen", "-n", "first", "--meta=name=second,keygen.hostname=h", path)
    assert r.returncode == 0, r.stderr
    meta = read_cert(path)[0]
    assert meta["name"] == "first"
    assert meta["keygen.hostname"] == "h"
    # Without --name, --meta name= sets it.
    r = flux("keygen", "--meta=name=viameta", path)
    assert r.returncode == 0, r.stderr
    assert read_cert(path)[0]["name"] == "viameta"


def test_replaces_file_and_makes_it_private(tmp_path):
    path = tmp_path / "cert"
    path.write_text("old contents\n")
    path.chmod(0o644)
    r = flux("keygen", path)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    read_cert(path)


def test_without_path_warns():
    r = flux("keygen")
    assert r.returncode == 0
    assert r.stderr == "flux-keygen: WARNING: add PATH argument to save generated certificate\n"
    assert r.stdout == ""


def test_usage_errors(tmp_path):
    r = flux("keygen", tmp_path / "a", tmp_path / "b")
    assert r.returncode == 1
    assert r.stderr.startswith("flux-keygen: ")
    assert not (tmp_path / "a").exists()
    r = flux("keygen", "--nosuch", tmp_path / "a")
    assert r.returncode == 1
    assert r.stderr.startswith("flux-keygen: ")


def test_metadata_the_format_cannot_hold(tmp_path):
    path = tmp_path / "cert"
    r = flux("keygen", "--meta=owner=a_b", path)
    assert r.returncode == 1
    assert r.stderr.startswith("flux-keygen: certificate metadata owner='a_b'")
    assert not path.exists()
    r = flux("keygen", "--meta==x", path)
    assert r.returncode == 1
    assert "key may not be empty" in r.stderr


def test_unwritable_path(tmp_path):
    path = tmp_path / "nosuchdir" / "cert"
    r = flux("keygen", path)
    assert r.returncode == 1
    assert r.stderr == f"flux-keygen: {path}: No such file or directory\n"


def test_manual_page():
    r = flux("help", "keygen")
    assert r.returncode == 0
    assert "flux-keygen" in r.stdout
    assert "SYNOPSIS" in r.stdout
