"""bench.approval_parts times an approval by wrapping the functions production calls; these
tests keep its list of parts true to the code (a part production stopped calling would
silently read 0 ms in the breakdown of docs/PERFORMANCE.md)."""

from collections import defaultdict

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from bench.approval_parts import ACTION, ROUNDS, _parts, instrument, summarise


@pytest.mark.django_db(transaction=True)  # a real COMMIT, and the publish after it
def test_one_api_approval_runs_through_every_part_the_breakdown_times(
    world, make_request, monkeypatch
):
    pending = make_request(stage="pending_customer")
    totals = defaultdict(float)  # as the bench keeps them: a label appears once its part ran
    instrument(totals, monkeypatch.setattr)  # the bench's own wrapping, undone after the test
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(world.approver)[1]}")

    response = client.post(f"/api/v1/requests/{pending.pk}/approve/", {}, format="json")

    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert set(totals) == {label for _, _, label in _parts()} | {ACTION}


def test_the_rest_of_the_action_is_what_its_timed_parts_leave():
    labels = [label for _, _, label in _parts()]
    parts = {label: 0.1 for label in labels} | {ACTION: 2.0}
    rounds = {"approve": [(3.0, 1.0, parts)] * ROUNDS, "me": [(0.8, 0.1, parts)] * ROUNDS}

    result = summarise(rounds)

    rest = result["client_cpu_ms_per_approval"][
        "the rest of the view's action (checks, transition table, notifications' payloads)"
    ]
    # Everything but the sign-in and the rendering runs inside the action.
    assert rest == pytest.approx(2.0 - 0.1 * (len(labels) - 2))
    assert result["approval"] == {"client_cpu_ms": 3.0, "server_cpu_ms": 1.0}
