"""The four states of Google's List filter, computed from Lockbox's statuses and deadlines at
the time of the call, the way enforcement reads them (INTEROP-GOOGLE 7).

Each Lockbox status maps to exactly one state (two, split by a deadline): a new status is one
entry in STATUS_STATES and, if a deadline splits it, one line in `state_q`.
"""

from enum import StrEnum

from django.db.models import Q

from requests_app.models import AccessRequest

Status = AccessRequest.Status


class State(StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    DISMISSED = "DISMISSED"
    EXPIRED = "EXPIRED"


# status -> the state it is in; a status split by a deadline names (before, after) it.
STATUS_STATES: dict[str, State | tuple[State, State]] = {
    Status.PENDING_CUSTOMER: (State.PENDING, State.DISMISSED),  # split by expires_at
    # A question waits for the engineer (SPEC 10): the deadline is stopped, so it stays pending.
    Status.INFO_REQUESTED: State.PENDING,
    # Split by window_ends_at. An approved window that opens later (a scheduled start) is
    # ACTIVE too: the approval is in force.
    Status.APPROVED: (State.ACTIVE, State.EXPIRED),
    Status.DENIED: State.DISMISSED,
    Status.CANCELLED: State.DISMISSED,
    Status.EXPIRED: State.DISMISSED,
    Status.COMPLETED: State.EXPIRED,
    Status.REVOKED: State.EXPIRED,  # an invalidated approval is no longer in force
}
DEADLINE = {Status.PENDING_CUSTOMER: "expires_at", Status.APPROVED: "window_ends_at"}

FILTERS: dict[str, tuple[State, ...]] = {
    "": (State.PENDING, State.ACTIVE),  # Google: "pending or have active approvals"
    "ALL": tuple(State),
    "PENDING": (State.PENDING,),
    "ACTIVE": (State.ACTIVE,),
    "DISMISSED": (State.DISMISSED,),
    "EXPIRED": (State.EXPIRED,),
    "HISTORY": (State.ACTIVE, State.DISMISSED, State.EXPIRED),
}


def state_q(state: State, now) -> Q:
    """The requests in `state` at `now`, as one condition."""
    q = Q(pk__in=[])
    for status, states in STATUS_STATES.items():
        if states == state:
            q |= Q(status=status)
        elif isinstance(states, tuple) and state in states:
            deadline = DEADLINE[status]
            lookup = "gt" if state == states[0] else "lte"
            q |= Q(status=status, **{f"{deadline}__{lookup}": now})
    return q


def filter_q(states: tuple[State, ...], now) -> Q:
    q = Q(pk__in=[])
    for state in states:
        q |= state_q(state, now)
    return q


def state_of(access_request: AccessRequest, now) -> State | None:
    states = STATUS_STATES.get(access_request.status)
    if not isinstance(states, tuple):
        return states
    return (
        states[0] if getattr(access_request, DEADLINE[access_request.status]) > now else states[1]
    )
