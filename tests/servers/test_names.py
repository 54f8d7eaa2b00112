"""JupyterHub 6's rule for new named servers."""

from __future__ import annotations

import pytest

from commonroom.servers.names import server_name_problem


@pytest.mark.parametrize("name", ["a", "gpu", "lab-2", "x" * 30, "a1-b2-c3"])
def test_good_names(name: str) -> None:
    assert server_name_problem(name) is None


@pytest.mark.parametrize("name", ["", "x" * 31, "Gpu", "1lab", "-lab", "lab-", "la--b", "la_b", "la b", "lab/x", "é"])
def test_bad_names_say_the_rule(name: str) -> None:
    problem = server_name_problem(name)
    assert problem and ("characters" in problem or "start with a letter" in problem)
