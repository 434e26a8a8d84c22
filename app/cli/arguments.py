"""Argument types the commands share: numbers checked with a message argparse shows as is."""

from __future__ import annotations

import argparse


def whole_number(value: str, *, lowest: int, words: str) -> int:
    """``value`` as a whole number of at least ``lowest``; ``words`` say what it must be."""
    try:
        n = int(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from err
    if n < lowest:
        raise argparse.ArgumentTypeError(f"{value!r} {words}")
    return n


def positive_int(value: str) -> int:
    return whole_number(value, lowest=1, words="must be at least 1")


def positive_float(value: str) -> float:
    try:
        x = float(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from err
    if not x > 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be greater than 0")
    return x


def non_negative_float(value: str) -> float:
    try:
        x = float(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from err
    if not x >= 0 or x == float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r} must be 0 or more")
    return x


def non_negative_int(value: str) -> int:
    return whole_number(value, lowest=0, words="must be 0 or more")
