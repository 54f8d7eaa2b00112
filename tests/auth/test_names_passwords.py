import pytest

from commonroom.auth.names import name_problem, normalize
from commonroom.auth.passwords import hash_password, policy_problem, verify_password


@pytest.mark.parametrize("name", ["alice", "a", "bob.smith", "x_1-2", "0day"])
def test_good_names(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "words"),
    [("", "Enter"), ("a" * 33, "at most 32"), ("Alice", "lowercase"), ("al ice", "lowercase"),
     ("../etc", "lowercase"), ("-x", "start with"), ("ünï", "lowercase"), ("admin", "reserved"), ("a/b", "lowercase")],
)  # fmt: skip
def test_bad_names_say_why(name: str, words: str) -> None:
    problem = name_problem(name)
    assert problem is not None and words in problem


def test_normalize_folds_case_and_space() -> None:
    assert normalize("  Alice ") == "alice"


async def test_argon2_round_trip() -> None:
    hashed = await hash_password("correct horse battery staple")
    assert hashed.startswith("$argon2id$")
    assert await verify_password(hashed, "correct horse battery staple")
    assert not await verify_password(hashed, "wrong")
    assert not await verify_password(None, "anything")


@pytest.mark.parametrize(
    ("password", "words"),
    [("short", "at least 10"), ("password123", "common"), ("qwertyuiop", "common"), ("alice-rocks-2024", "user name")],
)
async def test_weak_passwords_are_refused(password: str, words: str) -> None:
    problem = await policy_problem(password, "alice", 10)
    assert problem is not None and words in problem


async def test_strong_password_passes() -> None:
    assert await policy_problem("velvet-otter-carries-lanterns", "alice", 10) is None
