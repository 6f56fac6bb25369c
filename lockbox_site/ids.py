"""Ids as callers hand them over: an int, or a string of digits from a URL or a form."""

MAX_ID = 2**63 - 1  # the database's bigint


def as_int(value) -> int | None:
    """An int, or a string of digits; anything else (bools, floats, lists) is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def as_id(value) -> int | None:
    """A primary key as as_int reads it, within what the database holds; else None."""
    number = as_int(value)
    return number if number is not None and 1 <= number <= MAX_ID else None
