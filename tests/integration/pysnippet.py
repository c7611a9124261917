"""Python snippets run under our `flux python` whose stdout is JSON: the
runner and the err() helper the Python API tests share."""

import json
import textwrap

from conftest import flux

# err(f): "ok", or [exception type, its first argument] (ERR_BY_ARG) or
# [exception type, str(exception)] (ERR_BY_TEXT).
ERR_BY_ARG = """
def err(f):
    try:
        f()
    except Exception as e:
        return [type(e).__name__, str(e.args[0]) if e.args else ""]
    return "ok"
"""
ERR_BY_TEXT = """
def err(f):
    try:
        f()
    except Exception as e:
        return [type(e).__name__, str(e)]
    return "ok"
"""


def run_json(prelude, *code, inst=None, env=None):
    """Run PRELUDE then the CODE blocks with `flux python` (in INST if
    given); its stdout parsed as JSON."""
    src = prelude + "".join(textwrap.dedent(c) for c in code)
    r = flux("python", "-c", src, env=env) if inst is None else inst.run(
        "python", "-c", src, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)
