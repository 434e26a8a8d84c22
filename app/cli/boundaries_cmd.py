"""``placemap boundaries list|download|export``: which districts, the ONS download, the polygons.

* ``list --authority CODE`` prints the authority's districts (code, name, group) and its context
  districts; no polygons are needed.
* ``download [--authority CODE]`` fetches the official ONS polygons (the authority's districts,
  context and neighbours) into the cache; ``PLACEMAP_ONS_URL`` overrides the service URL.
* ``export --authority CODE [--source auto|file|ons|derived] --out FILE.geojson`` writes the
  polygons in use (EPSG:4326, full detail, with code, name, role and source), atomically.

Options left out default to :class:`app.settings.Settings` (``PLACEMAP_AUTHORITY``,
``PLACEMAP_CACHE_DIR``, ``PLACEMAP_ONS_URL``, ``PLACEMAP_BOUNDARIES``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from app.settings import Settings
from geo.errors import InputError
from geo.spatial import boundaries as districts
from geo.spatial import district_name, load_authority


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "boundaries",
        help="district boundaries: list districts, download the ONS file, export polygons",
        description="District boundaries for the maps: from a file you name "
        "(--boundaries / PLACEMAP_BOUNDARIES), the official ONS file downloaded once and cached, "
        "or an offline approximation derived from postcode locations.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    def authority_arg(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--authority",
            metavar="CODE",
            help="GSS code of the council (default PLACEMAP_AUTHORITY, else Kent, E10000016)",
        )

    def cache_arg(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--cache-dir",
            type=Path,
            metavar="DIR",
            help="cache folder (default PLACEMAP_CACHE_DIR, else the user cache directory)",
        )

    q = actions.add_parser("list", help="print the authority's districts (code, name, group)")
    authority_arg(q)
    q.set_defaults(func=run_list)

    q = actions.add_parser(
        "download",
        help="fetch and cache the ONS district polygons",
        description="Fetch the authority's districts, context districts and neighbours from the "
        "ONS Open Geography Portal (Local Authority Districts December 2024 BGC) and cache them. "
        "A failed download leaves the cache as it was. PLACEMAP_ONS_URL overrides the service.",
    )
    authority_arg(q)
    cache_arg(q)
    q.add_argument("--url", metavar="URL", help="FeatureServer URL (default PLACEMAP_ONS_URL)")
    q.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="per-request timeout (default 60)",
    )
    q.set_defaults(func=run_download)

    q = actions.add_parser(
        "export",
        help="write the district polygons in use as GeoJSON (EPSG:4326)",
        description="Write the polygons the app would use (authority, context and neighbouring "
        "districts) as GeoJSON in EPSG:4326 with code, name, role and source.",
    )
    authority_arg(q)
    cache_arg(q)
    q.add_argument(
        "--source",
        default="auto",
        choices=[s.value for s in districts.BoundarySource],
        help="auto (default): file if configured, else the ONS cache, else derived",
    )
    q.add_argument(
        "--boundaries",
        type=Path,
        metavar="FILE",
        help="boundary file (default PLACEMAP_BOUNDARIES)",
    )
    q.add_argument("--out", required=True, type=Path, metavar="FILE.geojson")
    q.set_defaults(func=run_export)


def run_list(args: argparse.Namespace) -> int:
    authority = load_authority(Settings.from_env(authority=args.authority).authority)
    rows = [
        (code, name, authority.group_of(code) or "") for code, name in authority.districts.items()
    ]
    rows += [
        (code, district_name(code), f"context (not part of {authority.name})")
        for code in authority.context_districts
        if code not in authority.districts
    ]
    width = max(len(name) for _, name, _ in rows)
    print(f"{authority.name} ({authority.code}): {len(authority.districts)} districts")
    for code, name, group in rows:
        print(f"{code}  {name:<{width}}  {group}".rstrip())
    return 0


def run_download(args: argparse.Namespace) -> int:
    settings = Settings.from_env(
        authority=args.authority, cache_dir=args.cache_dir, ons_url=args.url
    )
    authority = load_authority(settings.authority)
    started = time.perf_counter()
    path = districts.download_ons(
        authority=authority,
        cache_dir=settings.cache_dir,
        base_url=settings.ons_url or districts.ONS_SERVICE_URL,
        timeout_s=args.timeout,
    )
    loaded = districts.load_boundaries(
        authority=authority, source="ons", cache_dir=settings.cache_dir
    )
    roles = loaded.frame["role"].value_counts()
    print(
        f"Cached {len(loaded.frame)} districts for {authority.name} at {path} "
        f"({roles.get('authority', 0)} of the authority, {roles.get('context', 0)} context, "
        f"{roles.get('neighbour', 0)} neighbours) in {time.perf_counter() - started:.1f} s."
    )
    print(loaded.attribution)
    return 0


def run_export(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists() and out.is_dir():
        raise InputError(f"--out {out} is a folder; give a file name such as kent.geojson.")
    settings = Settings.from_env(
        authority=args.authority, cache_dir=args.cache_dir, boundaries=args.boundaries
    )
    loaded = districts.load_boundaries(
        authority=settings.authority,
        source=args.source,
        path=settings.boundaries,  # --boundaries, else PLACEMAP_BOUNDARIES
        cache_dir=settings.cache_dir,
    )
    districts.write_geojson(out, districts.export_geojson(loaded))
    print(f"Wrote {len(loaded.frame)} districts ({loaded.label}) to {out}.")
    return 0
