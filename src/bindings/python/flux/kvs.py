"""The KVS as flux-core's flux.kvs: put/put_mkdir/put_unlink/put_symlink
are gathered in the handle's transaction until commit(); get, exists and
isdir read through kvs.lookup. Values are JSON (as flux-core's)."""

import base64
import errno
import json

from flux.constants import FLUX_KVS_READDIR


def _txn(h):
    return h.aux.setdefault("flux.kvs.txn", [])


def _val(data):
    return {"ver": 1, "type": "val", "data": base64.b64encode(data).decode()}


def put(h, key, value):
    data = value if isinstance(value, bytes) else json.dumps(value).encode()
    _txn(h).append({"key": key, "flags": 0, "dirent": _val(data)})


def put_mkdir(h, key):
    _txn(h).append({"key": key, "flags": 0, "dirent": {"ver": 1, "type": "dir", "data": {}}})


def put_unlink(h, key):
    _txn(h).append({"key": key, "flags": 0, "dirent": None})


def put_symlink(h, key, target):
    link = {"ver": 1, "type": "symlink", "data": {"target": target}}
    _txn(h).append({"key": key, "flags": 0, "dirent": link})


def commit(h, flags=0, namespace=None):
    ops = h.aux.pop("flux.kvs.txn", [])
    req = {"ops": ops, "flags": flags, "namespace": namespace or _namespace()}
    h.rpc("kvs.commit", req).get()


def _namespace():
    import os

    return os.environ.get("FLUX_KVS_NAMESPACE", "primary")


def _lookup(h, key, flags=0, namespace=None):
    req = {"key": key, "flags": flags, "namespace": namespace or _namespace()}
    return h.rpc("kvs.lookup", req).get()["val"]


def get(h, key, namespace=None):
    """The value of key: JSON decoded when it is JSON, else str/bytes."""
    val = _lookup(h, key, namespace=namespace)
    if val["type"] == "dir":
        return {k: None for k in val["data"]}
    if val["type"] != "val":
        raise OSError(errno.EINVAL, f"{key}: not a value")
    data = base64.b64decode(val["data"])
    try:
        return json.loads(data)
    except ValueError:
        try:
            return data.decode()
        except UnicodeDecodeError:
            return data


def exists(h, key, namespace=None):
    try:
        _lookup(h, key, namespace=namespace)
        return True
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            return False
        raise


def isdir(h, key, namespace=None):
    try:
        return _lookup(h, key, FLUX_KVS_READDIR, namespace)["type"] == "dir"
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            return False
        raise


def dir_keys(h, key, namespace=None):
    return sorted(_lookup(h, key, FLUX_KVS_READDIR, namespace)["data"].keys())
