"""Argument types the commands share: numbers checked with a message argparse shows as is."""

from __future__ import annotations

import argparse


def positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from err
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be at least 1")
    return n


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
    try:
        n = int(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from err
    if n < 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be 0 or more")
    return n
