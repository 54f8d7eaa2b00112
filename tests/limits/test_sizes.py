"""Sizes and CPU amounts as admins write them in profiles."""

from __future__ import annotations

import pytest

from commonroom.limits.sizes import cpu_quota_us, format_size, parse_size


@pytest.mark.parametrize(
    ("text", "size"),
    [("2G", 2 << 30), ("512M", 512 << 20), ("1.5GiB", 3 << 29), ("300m", 300 << 20), ("1048576", 1 << 20),
     ("64 K", 64 << 10), ("1T", 1 << 40), ("2GB", 2 << 30)],
)  # fmt: skip
def test_sizes_in_binary_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "G", "-1G", "0", "2 gigabytes", "1.2.3M", "2P"])
def test_what_is_not_a_size_says_what_is(text: str) -> None:
    with pytest.raises(ValueError, match="e.g. '512M' or '2G'"):
        parse_size(text)


def test_sizes_for_people() -> None:
    assert format_size(300 << 20) == "300 MB"
    assert format_size(3 << 29) == "1.5 GB"
    assert format_size(512) == "512 bytes"


def test_cpu_quota_per_period() -> None:
    assert cpu_quota_us(1.5) == 150_000
    assert cpu_quota_us(0.001) == 1000  # the kernel's minimum
