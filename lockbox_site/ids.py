"""Ids as callers hand them over: an int, or a string of digits from a URL or a form."""


def as_int(value) -> int | None:
    """An int, or a string of digits; anything else (bools, floats, lists) is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
