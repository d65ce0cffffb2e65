"""Bodies of the `/auth` endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr

from api.schemas.common import ApiModel
from api.schemas.users import Email, Name, Password, Phone, UserOut

# A link's token: what `opaque_token` makes (43 characters), with room to spare.
LinkToken = Annotated[str, Field(min_length=16, max_length=256)]


class RegisterRequest(ApiModel):
    email: Email
    password: Password
    name: Name


class LoginRequest(ApiModel):
    email: Email
    password: SecretStr = Field(max_length=128)


class RefreshRequest(ApiModel):
    refresh_token: str = Field(min_length=1, max_length=4096)


class LogoutRequest(ApiModel):
    """Without a refresh token, every session of the caller ends."""

    refresh_token: str | None = Field(None, min_length=1, max_length=4096)


class ChangePasswordRequest(ApiModel):
    current_password: SecretStr = Field(max_length=128)
    new_password: Password


class ForgotPasswordRequest(ApiModel):
    email: Email


class ResetPasswordRequest(ApiModel):
    token: LinkToken
    new_password: Password


class VerifyEmailRequest(ApiModel):
    token: LinkToken


class AcceptInvitationRequest(ApiModel):
    token: LinkToken
    password: Password


class PhoneVerifyStart(ApiModel):
    phone: Phone


class PhoneVerify(ApiModel):
    code: str = Field(pattern=r"^[0-9]{6}$", description="the six digits texted to the phone")


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    user: UserOut


MfaCode = Field(
    min_length=6,
    max_length=32,
    description="the 6 digits your authenticator app shows, or one of your recovery codes",
)


class MfaChallenge(BaseModel):
    """The password was right; the second step is `POST /auth/mfa/verify`."""

    mfa_required: Literal[True] = True
    challenge: str = Field(description="send it back with a code to POST /auth/mfa/verify")
    expires_in: int = Field(description="seconds the challenge stays valid")


class MfaVerifyRequest(ApiModel):
    challenge: str = Field(min_length=1, max_length=4096)
    code: str = MfaCode


class MfaCodeRequest(ApiModel):
    code: str = MfaCode


class MfaSetup(BaseModel):
    secret: str = Field(description="base32, for typing into an authenticator app")
    otpauth_uri: str = Field(description="the same secret as an otpauth:// URI (a QR code)")


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(
        description="shown this once: each signs in once in place of a code from the app"
    )
