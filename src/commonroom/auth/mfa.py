"""One-time codes (TOTP, RFC 6238) as a second step for native accounts, and single-use recovery codes.

The TOTP secret is kept encrypted with the hub's encryption key; recovery codes only as hashes, each spent by
one conditional update so two uses of the same code cannot both succeed.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.auth.encryption import decrypt_text, encrypt_text
from commonroom.auth.secrets import hash_secret
from commonroom.config.models import AuthConfig
from commonroom.db.models import RecoveryCode, User
from commonroom.timeutil import utcnow

RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, name: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (no image files, no scripts)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg: str = image.to_string(encoding="unicode")
    return svg


def matching_step(secret: str, code: str) -> int | None:
    """The 30-second step whose code this is, if current (one step of clock drift either way is forgiven)."""
    digits, totp, now = code.replace(" ", "").strip(), pyotp.TOTP(secret), datetime.now()
    if not digits.isdigit():
        return None
    for offset in (-1, 0, 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), digits):
            return totp.timecode(now) + offset
    return None


def code_matches(secret: str, code: str) -> bool:
    return matching_step(secret, code) is not None


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _normal(code: str) -> str:
    return code.strip().lower().replace(" ", "")


def stage(user: User, config: AuthConfig) -> str | None:
    """What the person must do after their password: "verify" a code, "enrol" (MFA required), or None."""
    if user.totp_secret:
        return "verify"
    if config.mfa.required and config.authenticator == "native":
        return "enrol"
    return None


async def enable(db: AsyncSession, user: User, secret: str, key: str) -> list[str]:
    """Turn MFA on with a confirmed secret; returns the recovery codes, shown once and stored hashed."""
    user.totp_secret = encrypt_text(key, secret)
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    db.add_all(RecoveryCode(user_id=user.id, hashed=hash_secret(_normal(c))) for c in codes)
    await db.flush()
    return codes


async def reset(db: AsyncSession, user: User) -> None:
    user.totp_secret, user.totp_last_step = None, None
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


async def spend_recovery_code(db: AsyncSession, user: User, code: str) -> bool:
    hashed = hash_secret(_normal(code))
    row = (await db.execute(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.hashed == hashed, RecoveryCode.used_at.is_(None)))).first()  # fmt: skip
    if row is None:
        return False
    spent = await db.execute(
        update(RecoveryCode).where(RecoveryCode.id == row[0], RecoveryCode.used_at.is_(None)).values(used_at=utcnow())
    )
    return getattr(spent, "rowcount", 0) == 1


async def second_factor_ok(db: AsyncSession, user: User, code: str, key: str) -> bool:
    """A current TOTP code or an unused recovery code of this person."""
    if not user.totp_secret:
        return False
    step = matching_step(decrypt_text(key, user.totp_secret), code)
    if step is not None and step > (user.totp_last_step or -1):
        user.totp_last_step = step
        return True
    return "-" in code and await spend_recovery_code(db, user, code)


async def recovery_codes_left(db: AsyncSession, user: User) -> int:
    rows = await db.execute(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))
    return len(rows.all())
