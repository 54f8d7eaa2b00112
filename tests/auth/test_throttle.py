from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.auth import throttle
from commonroom.config.models import ThrottleConfig


async def test_account_locks_after_its_limit(db: AsyncSession) -> None:
    cfg = ThrottleConfig(max_failures=3, max_failures_per_address=100, window_seconds=60, lockout_seconds=60)
    for _ in range(2):
        await throttle.record_failure(db, cfg, "amy", "10.0.0.1")
    assert await throttle.locked_until(db, "amy", "10.0.0.9") is None
    await throttle.record_failure(db, cfg, "amy", "10.0.0.1")
    assert await throttle.locked_until(db, "amy", "10.0.0.9") is not None, "the account is locked from any address"
    assert await throttle.locked_until(db, "ben", "10.0.0.1") is None, "others at that address are not"


async def test_address_locks_after_its_higher_limit(db: AsyncSession) -> None:
    cfg = ThrottleConfig(max_failures=3, max_failures_per_address=5, window_seconds=60, lockout_seconds=60)
    for i in range(5):
        await throttle.record_failure(db, cfg, f"user{i}", "10.0.0.2")
    assert await throttle.locked_until(db, "someone-new", "10.0.0.2") is not None
    assert await throttle.locked_until(db, "someone-new", "10.0.0.3") is None


async def test_success_clears_the_account_count(db: AsyncSession) -> None:
    cfg = ThrottleConfig(max_failures=2, max_failures_per_address=100, window_seconds=60, lockout_seconds=60)
    await throttle.record_failure(db, cfg, "cat", "10.0.0.4")
    await throttle.record_success(db, "cat")
    await throttle.record_failure(db, cfg, "cat", "10.0.0.4")
    assert await throttle.locked_until(db, "cat", "10.0.0.4") is None
