"""The worked examples in the docstrings of functions and classes are run, so that they stay true.

A module's own docstring sketches how its parts are used together (a trained model, a file on
disk) and is not run; every other `>>>` example must stand alone.
"""

import doctest
import importlib
import pkgutil

import pytest


def docstring_examples():
    for package in ("vnzh_runtime", "serve", "train"):
        for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
            if info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            for test in doctest.DocTestFinder().find(module):
                if test.name != info.name and test.examples:
                    yield pytest.param(test, id=test.name)


@pytest.mark.parametrize("example", docstring_examples())
def test_docstring_example(example):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report = []
    runner.run(example, out=report.append)
    assert runner.failures == 0, "".join(report)
