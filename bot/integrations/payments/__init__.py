"""The payment gateway: its Protocol and types (`gateway.py`) and the sandbox used by default
(`sandbox.py`). Import from here; a real provider's adapter would sit beside the sandbox."""

from bot.integrations.payments.gateway import (
    CardDeclined,
    CardPreview,
    CardSession,
    Charge,
    DeclineReason,
    Hold,
    IdempotencyConflict,
    InvalidRequest,
    PaymentError,
    PaymentGateway,
    Refund,
    RefundStatus,
    SessionNotFound,
    UnknownPayment,
    VerifiedCard,
)
from bot.integrations.payments.sandbox import (
    IDEMPOTENCY_TTL,
    MAX_CVC_ATTEMPTS,
    SANDBOX_CARDS,
    SESSION_TTL,
    Behaviour,
    SandboxGateway,
    SandboxRetention,
)

__all__ = [
    "IDEMPOTENCY_TTL", "MAX_CVC_ATTEMPTS", "SANDBOX_CARDS", "SESSION_TTL", "Behaviour", "CardDeclined",
    "CardPreview", "CardSession", "Charge", "DeclineReason", "Hold", "IdempotencyConflict", "InvalidRequest",
    "PaymentError", "PaymentGateway", "Refund", "RefundStatus", "SandboxGateway", "SandboxRetention",
    "SessionNotFound", "UnknownPayment", "VerifiedCard",
]
