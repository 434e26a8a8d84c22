"""``placemap distance HOME_POST PL_POST``: the DfE distance in miles for one pair."""

from __future__ import annotations

import argparse

import pandas as pd

from geo.errors import InputError
from geo.spatial import distance as dist
from geo.spatial import postcodes as pc


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "distance",
        help="DfE SSDA903 distance in miles between two postcodes",
        description="Print the DfE SSDA903 distance (miles, one decimal) from an "
        "originating (home) postcode to a placement postcode.",
    )
    p.add_argument(
        "postcodes",
        nargs="+",
        metavar="POSTCODE",
        help="HOME_POST then PL_POST (quotes optional: 'ME14 1XQ' or ME14 1XQ)",
    )
    p.set_defaults(func=run)


def split_pair(tokens: list[str]) -> tuple[str, str]:
    """Two postcodes from 2-4 command-line words (``ME14 1XQ CT1 2RX`` works unquoted)."""
    if len(tokens) == 2:
        return tokens[0], tokens[1]
    if len(tokens) == 4:
        return f"{tokens[0]} {tokens[1]}", f"{tokens[2]} {tokens[3]}"
    if len(tokens) == 3:
        for cut in (1, 2):
            home, place = " ".join(tokens[:cut]), " ".join(tokens[cut:])
            if pc.is_valid_format(pd.Series([home, place])).all():
                return home, place
    raise InputError(
        f"Expected two postcodes (HOME_POST PL_POST), got {tokens!r}. Quote each postcode, "
        "e.g. placemap distance 'ME14 1XQ' 'CT1 2RX'."
    )


def run(args: argparse.Namespace) -> int:
    args.home_post, args.pl_post = split_pair(args.postcodes)
    pairs = dist.pair_distances(pd.Series([args.home_post]), pd.Series([args.pl_post]))
    status = pairs.status.iloc[0]
    if status != dist.DistanceStatus.OK.value:
        which, frame, raw = (
            ("home", pairs.home, args.home_post)
            if pairs.home.status.iloc[0] != pc.PostcodeStatus.OK.value
            or status == dist.DistanceStatus.HOME_OUTSIDE_ENGLAND.value
            else ("placement", pairs.placement, args.pl_post)
        )
        if status == dist.DistanceStatus.HOME_OUTSIDE_ENGLAND.value:
            reason = (
                f"is outside England (district {frame.district_code.iloc[0]}); the DfE "
                "method reports the distance as not known (999.9)"
            )
        else:
            reason = pc.REASONS[pc.PostcodeStatus(status)]
        sep = " " if reason.startswith("is outside") else ": "  # a sentence, or a label
        raise InputError(f"The {which} postcode {raw!r}{sep}{reason}. Distance not known.")
    print(f"{pairs.miles[0]:.1f}")
    return 0
