"""Every Python example in doc/python.md runs against a real instance:
the API page can't drift from the package."""

import pathlib
import re

import pytest

from conftest import wait_until_running

DOC = pathlib.Path(__file__).resolve().parents[2] / "doc" / "python.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_the_page_has_examples():
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_example_runs(instance, code):
    wait_until_running(instance)
    r = instance.run("python", "-c", code, timeout=120)
    assert r.returncode == 0, f"{code}\n--- stderr:\n{r.stderr}"
    assert r.stdout.strip(), code
