"""Labs 01/02 print the manifest a FAST run applies: the same text as shipped but for the sleep."""

import pytest
import yaml

from kjlab import examples


@pytest.mark.parametrize("name", sorted(examples.FAST_SLEEP))
def test_the_printed_fast_manifest_is_the_one_that_runs(name):
    printed = examples.source(name, fast=True)
    assert yaml.safe_load(printed) == examples.render(name, sleep=examples.FAST_SLEEP[name])
    assert yaml.safe_load(printed) != examples.render(name)  # the docs' sleep is another
    first = printed.splitlines()[0]
    assert first.startswith("#") and f"sleep {examples.documented_sleep(name)}" in first
    assert printed.splitlines()[1:] != examples.source(name).splitlines()


def test_without_fast_it_is_the_docs_manifest():
    assert examples.source("ignore", fast=False) == examples.packaged("ignore.yaml")
    assert examples.source("parallel", fast=True) == examples.packaged("parallel.yaml")  # no fast sleep of its own
