from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from audit_app.services import audit_record

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def write_record():
    """Write one audit record as of a moment (through the one writer, in a transaction)."""

    def _write(
        tenant,
        *,
        at=T0,
        actor=None,
        operation="OperatorAction",
        record_type="Windows365CustomerLockbox",
        **kwargs,
    ):
        with time_machine.travel(at, tick=False), transaction.atomic():
            return audit_record(
                tenant_id=tenant.pk,
                actor=actor,
                record_type=record_type,
                operation=operation,
                **kwargs,
            )

    return _write


@pytest.fixture
def days():
    return lambda n: T0 + timedelta(days=n)
