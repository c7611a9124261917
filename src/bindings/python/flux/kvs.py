"""The KVS as flux-core's flux.kvs.

put/put_mkdir/put_unlink/put_symlink stage operations in a transaction
(the handle's own one, or a KVSTxn) that commit() sends as kvs.commit;
get, exists and isdir read through kvs.lookup. KVSDir is a dict-like view
of one directory, KVSTxn a transaction of its own, and kvs_watch_async()
streams a key's values from kvs-watch. Values are stored as flux-core
stores them: JSON text, or raw bytes.

A namespace of None means $FLUX_KVS_NAMESPACE, else "primary".
"""

import base64
import collections.abc as abc
import errno
import json
import os

from flux.constants import (
    FLUX_KVS_READDIR,
    FLUX_KVS_WAITCREATE,
    FLUX_KVS_WATCH,
    FLUX_KVS_WATCH_FULL,
    FLUX_KVS_WATCH_UNIQ,
    FLUX_RPC_NORESPONSE,
    FLUX_RPC_STREAMING,
)
from flux.rpc import RPC

_COMMIT_FLAGS = 0x7  # flux-core's NO_MERGE | TXN_COMPACT | SYNC
_DEFAULT_TXN = "flux.kvs.txn"  # the handle's own transaction, in h.aux


def _error(errnum, detail=None):
    msg = os.strerror(errnum)
    return OSError(errnum, f"{detail}: {msg}" if detail else msg)


def _namespace(namespace):
    if namespace:
        return namespace
    return os.environ.get("FLUX_KVS_NAMESPACE") or "primary"


def _check_key(key):
    if not isinstance(key, str) or not key:
        raise _error(errno.EINVAL, "key must be a non-empty string")


def _is_dir(treeobj):
    return treeobj.get("type") in ("dir", "dirref")


def _decode(treeobj):
    """A val treeobj's value as flux-core returns it: JSON decoded, else
    str, else bytes; None when empty. Like flux-core (a C string) the
    value ends at its first NUL byte."""
    if treeobj.get("type") != "val":
        raise _error(errno.EINVAL, "not a value")
    data = base64.b64decode(treeobj["data"]).split(b"\0", 1)[0]
    if not data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    try:
        return json.loads(text)
    except ValueError:
        return text


def _lookup(flux_handle, key, flags=0, namespace=None):
    """kvs.lookup's treeobj. Walking through a value is ENOENT, as in
    flux-core (our service says ENOTDIR) unless a directory was asked for."""
    _check_key(key)
    req = {"key": key, "flags": flags, "namespace": _namespace(namespace)}
    try:
        return flux_handle.rpc("kvs.lookup", req).get()["val"]
    except OSError as exc:
        if exc.errno == errno.ENOTDIR and not flags & FLUX_KVS_READDIR:
            raise _error(errno.ENOENT, key) from None
        raise


def get_key_direct(flux_handle, key, namespace=None):
    """The value at key; OSError EISDIR if it is a directory."""
    return _decode(_lookup(flux_handle, key, namespace=namespace))


def _kind(flux_handle, key, namespace):
    """"dir", "value", or None when key names nothing."""
    try:
        get_key_direct(flux_handle, key, namespace=namespace)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        if exc.errno == errno.EISDIR:
            return "dir"
        raise
    return "value"


def exists(flux_handle, key, namespace=None):
    """Whether key names a value or a directory."""
    return _kind(flux_handle, key, namespace) is not None


def isdir(flux_handle, key, namespace=None):
    """Whether key names a directory."""
    return _kind(flux_handle, key, namespace) == "dir"


def get_dir(flux_handle, key=".", namespace=None, _kvstxn=None):
    """The directory at key as a KVSDir."""
    return KVSDir(flux_handle, key, namespace=namespace, _kvstxn=_kvstxn)


def get(flux_handle, key, namespace=None, _kvstxn=None):
    """The value at key (see _decode), or a KVSDir if it is a directory."""
    try:
        return get_key_direct(flux_handle, key, namespace=namespace)
    except OSError as exc:
        if exc.errno != errno.EISDIR:
            raise
    return get_dir(flux_handle, key, namespace=namespace, _kvstxn=_kvstxn)


# -- staging and committing ------------------------------------------------


def _ops(flux_handle, _kvstxn):
    """The op list to stage into: the given KVSTxn (or its list), else the
    handle's own transaction."""
    if _kvstxn is None:
        return flux_handle.aux.setdefault(_DEFAULT_TXN, [])
    if isinstance(_kvstxn, KVSTxn):
        return _kvstxn.txn
    if isinstance(_kvstxn, list):
        return _kvstxn
    raise TypeError("_kvstxn must be a KVSTxn")


def _stage(flux_handle, _kvstxn, key, dirent):
    _check_key(key)
    _ops(flux_handle, _kvstxn).append({"key": key, "flags": 0, "dirent": dirent})


def put(flux_handle, key, value, _kvstxn=None, raw=False):
    """Stage key=value: JSON encoded, or as bytes when raw (str is UTF-8
    encoded) or when value is bytes."""
    if raw:
        data = value if isinstance(value, bytes) else value.encode("utf-8")
    else:
        try:
            data = json.dumps(value).encode("utf-8")
        except TypeError:
            if not isinstance(value, bytes):
                raise
            data = value
    dirent = {"ver": 1, "type": "val", "data": base64.b64encode(data).decode("ascii")}
    _stage(flux_handle, _kvstxn, key, dirent)


def put_mkdir(flux_handle, key, _kvstxn=None):
    """Stage an empty directory at key."""
    _stage(flux_handle, _kvstxn, key, {"ver": 1, "type": "dir", "data": {}})


def put_unlink(flux_handle, key, _kvstxn=None):
    """Stage the removal of key."""
    _stage(flux_handle, _kvstxn, key, None)


def put_symlink(flux_handle, key, target, _kvstxn=None):
    """Stage a symlink at key pointing to target."""
    if not isinstance(target, str):
        raise _error(errno.EINVAL, "target must be a string")
    link = {"ver": 1, "type": "symlink", "data": {"target": target}}
    _stage(flux_handle, _kvstxn, key, link)


class _CommitFuture(RPC):
    """kvs.commit's future; get() returns None, as flux-core's Future."""

    def get(self):
        super().get()


def _commit_rpc(flux_handle, ops, flags, namespace):
    if not isinstance(flags, int) or flags & ~_COMMIT_FLAGS:
        raise _error(errno.EINVAL, "unknown commit flags")
    req = {"ops": list(ops), "flags": flags, "namespace": _namespace(namespace)}
    return _CommitFuture(flux_handle, "kvs.commit", req)


def commit(flux_handle, flags=0, namespace=None, _kvstxn=None):
    """Send the staged operations. The handle's own transaction is
    emptied even if the commit fails; nothing staged means no request."""
    if _kvstxn is None:
        ops = flux_handle.aux.pop(_DEFAULT_TXN, None)
        if ops is None:
            return
    else:
        ops = _ops(flux_handle, _kvstxn)
    _commit_rpc(flux_handle, ops, flags, namespace).get()


def commit_async(flux_handle, flags=0, namespace=None, _kvstxn=None):
    """commit(), returning a future to wait on instead of waiting."""
    if _kvstxn is None:
        ops = flux_handle.aux.pop(_DEFAULT_TXN, [])
    else:
        ops = _ops(flux_handle, _kvstxn)
    return _commit_rpc(flux_handle, ops, flags, namespace)


# -- namespaces --------------------------------------------------------------


def namespace_create(flux_handle, namespace, owner=os.getuid(), flags=0):
    """Create namespace, owned by uid owner; OSError EEXIST if it exists."""
    req = {"namespace": namespace, "owner": owner, "flags": flags}
    flux_handle.rpc("kvs.namespace-create", req).get()


def namespace_remove(flux_handle, namespace):
    """Remove namespace (completed in the background)."""
    flux_handle.rpc("kvs.namespace-remove", {"namespace": namespace}).get()


def namespace_list(flux_handle):
    """Names of the namespaces."""
    rsp = flux_handle.rpc("kvs.namespace-list").get()
    return [ns["namespace"] for ns in rsp["namespaces"]]


# -- transactions and directories ------------------------------------------


def _prefix(path):
    """The string that turns a key relative to path into a full key."""
    if not path or path == ".":
        return ""
    return path if path.endswith(".") else path + "."


class KVSTxn:
    """A transaction of its own: put/mkdir/unlink/symlink keys (relative
    to path) and commit() them, or use it as a context manager that
    commits on exit."""

    def __init__(self, flux_handle=None, path=".", namespace=None):
        self.fhdl = flux_handle
        self.path = path
        self._path = _prefix(path)
        self.namespace = namespace
        self.txn = []  # staged ops, as kvs.commit takes them

    def put(self, key, value, raw=False):
        put(self.fhdl, self._path + key, value, _kvstxn=self, raw=raw)

    def mkdir(self, key):
        put_mkdir(self.fhdl, self._path + key, _kvstxn=self)

    def unlink(self, key):
        put_unlink(self.fhdl, self._path + key, _kvstxn=self)

    def symlink(self, key, target):
        put_symlink(self.fhdl, self._path + key, target, _kvstxn=self)

    def clear(self):
        self.txn.clear()

    def commit(self, flags=0):
        """Send the staged ops (none: no request); they are dropped even
        if the commit fails."""
        if not self.txn:
            return
        try:
            commit(self.fhdl, flags=flags, namespace=self.namespace, _kvstxn=self)
        finally:
            self.clear()

    def commit_async(self, flags=0):
        future = commit_async(self.fhdl, flags=flags, namespace=self.namespace, _kvstxn=self)
        self.clear()
        return future

    def __enter__(self):
        return self

    def __exit__(self, type_arg, value, tb):
        self.commit()
        return False


class KVSDir(abc.MutableMapping):
    """A KVS directory as a dict: kd[key] reads (a KVSDir for a
    subdirectory, KeyError if missing), kd[key] = v and del kd[key] stage
    writes that commit() sends. Subdirectories read through kd[...] share
    its transaction, so one commit() covers them. Iteration, len(),
    files() and directories() see the directory as it was when read.

    `handle` is accepted for flux-core's signature (a C kvsdir there) and
    must be None.
    """

    def __init__(self, flux_handle=None, path=".", handle=None, namespace=None, _kvstxn=None):
        if flux_handle is None or handle is not None:
            raise ValueError("flux_handle must be a valid Flux object")
        self.fhdl = flux_handle
        self.path = path
        self._path = _prefix(path)
        self.namespace = namespace
        self._entries = _lookup(flux_handle, path, FLUX_KVS_READDIR, namespace)["data"]
        # Keys are staged "absolute" so subdirectories can share the txn.
        self.kvstxn = _kvstxn if _kvstxn else KVSTxn(flux_handle, ".", namespace=namespace)

    def key_at(self, key):
        """The full key of key in this directory."""
        if not self.path or self.path == ".":
            return key
        return self._path + key

    def exists(self, name):
        return exists(self.fhdl, self._path + name, namespace=self.namespace)

    def isdir(self, name):
        return isdir(self.fhdl, self._path + name, namespace=self.namespace)

    def __getitem__(self, key):
        try:
            return get(self.fhdl, self.key_at(key), namespace=self.namespace,
                       _kvstxn=self.kvstxn)
        except OSError:
            raise KeyError(f"{key} not found under directory {self.key_at('')}") from None

    def __setitem__(self, key, value):
        self.kvstxn.put(self._path + key, value)

    def __delitem__(self, key):
        self.kvstxn.unlink(self._path + key)

    def __iter__(self):
        return iter(sorted(self._entries))

    def __len__(self):
        return len(self._entries)

    def commit(self, flags=0):
        """Send the writes staged through this directory (and those
        through its subdirectories read with [])."""
        try:
            self.kvstxn.commit(flags=flags)
        finally:
            self.kvstxn.clear()

    def commit_async(self, flags=0):
        return self.kvstxn.commit_async(flags=flags)

    def fill(self, contents):
        """Write each key of contents ("a.b" keys make subdirectories) and
        commit."""
        if contents is None:
            raise ValueError("contents must be non-None")
        try:
            for key, val in contents.items():
                self[key] = val
        finally:
            self.commit()

    def mkdir(self, key, contents=None):
        """Create subdirectory key (committed now), then fill it."""
        self.kvstxn.mkdir(self._path + key)
        self.commit()
        if contents is not None:
            KVSDir(self.fhdl, self._path + key, namespace=self.namespace).fill(contents)

    def files(self):
        """Names of the non-directory entries."""
        for name in self:
            if not _is_dir(self._entries[name]):
                yield name

    def directories(self):
        """Names of the subdirectories."""
        for name in self:
            if _is_dir(self._entries[name]):
                yield name

    def list_all(self):
        """(files, directories), as lists."""
        return (list(self.files()), list(self.directories()))

    def __enter__(self):
        return self

    def __exit__(self, type_arg, value, tb):
        self.commit()
        return False


def join(*args):
    """Join key components with "." (skipping empty ones), for walk()."""
    return ".".join(a for a in args if a)


def _walk(kvsdir, curr, topdown, namespace):
    dirs = list(kvsdir.directories())
    entry = (curr, dirs, list(kvsdir.files()))
    if topdown:
        yield entry
    for name in dirs:
        sub = get_dir(kvsdir.fhdl, kvsdir.key_at(name), namespace=namespace)
        yield from _walk(sub, join(curr, name), topdown, namespace)
    if not topdown:
        yield entry


def walk(directory, topdown=False, flux_handle=None, namespace=None):
    """os.walk() over a KVS directory (a KVSDir or key): (path relative to
    it, subdirectory names, file names) for it and each subdirectory."""
    if not isinstance(directory, KVSDir):
        if flux_handle is None:
            raise ValueError("If directory is a key, flux_handle must be specified")
        directory = KVSDir(flux_handle, directory, namespace=namespace)
    return _walk(directory, "", topdown, namespace)


# -- watching ----------------------------------------------------------------


class KVSWatchFuture(RPC):
    """The values of a watched key: get() gives the next one (None once
    the watch has ended), cancel() ends the watch."""

    def __init__(self, flux_handle, key, flags, namespace=None):
        _check_key(key)
        req = {"key": key, "flags": flags, "namespace": _namespace(namespace)}
        super().__init__(flux_handle, "kvs-watch.lookup", req, flags=FLUX_RPC_STREAMING)
        self.needs_cancel = True

    def get(self, autoreset=True):
        """The current value; with autoreset the next get() waits for the
        next one."""
        try:
            value = _decode(super().get()["val"])
        except OSError as exc:
            if exc.errno == errno.ENODATA:
                self.needs_cancel = False
                return None
            raise
        if autoreset:
            self.reset()
        return value

    def cancel(self, stop=False):
        """End the watch: get() then returns None. With stop, no further
        then() callbacks."""
        self.flux_handle.rpc("kvs-watch.cancel", {"matchtag": self._core.matchtag()},
                             flags=FLUX_RPC_NORESPONSE)
        self.needs_cancel = False
        if stop:
            self.stop()

    def __del__(self):
        if getattr(self, "needs_cancel", False):
            try:
                self.cancel()
            except Exception:  # the handle may be gone already
                pass


def kvs_watch_async(flux_handle, key, namespace=None, waitcreate=False, uniq=False,
                    full=False):
    """Watch key: waitcreate waits for it to exist (else ENOENT), uniq
    skips unchanged values, full also notices changes above it."""
    flags = FLUX_KVS_WATCH
    if waitcreate:
        flags |= FLUX_KVS_WAITCREATE
    if uniq:
        flags |= FLUX_KVS_WATCH_UNIQ
    if full:
        flags |= FLUX_KVS_WATCH_FULL
    return KVSWatchFuture(flux_handle, key, flags, namespace)


def kvs_checkpoint_lookup(flux_handle, cache_bypass=False):
    """The primary namespace's checkpoints (a list of dicts with version,
    rootref, sequence, timestamp); cache_bypass asks the backing store."""
    topic = "content-backing.checkpoint-get" if cache_bypass else "content.checkpoint-get"
    value = flux_handle.rpc(topic, {"key": "kvs-primary"}).get()["value"]
    return [value] if isinstance(value, dict) else value

