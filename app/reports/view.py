"""The report downloads behind the District comparison page (same report as ``placemap report``)."""

from __future__ import annotations

from app.data.store import DatasetStore


def render_report(
    store: DatasetStore, dataset_id: str | None, *, fmt: str, suppress: bool = True
) -> tuple[bytes, str]:
    """Report bytes and a file name. Disclosure control is on unless ``suppress=False``
    (callers must check the user may see unsuppressed figures)."""
    from app.benchmark_view import report_benchmark
    from app.reports import build_report
    from app.reports import render_report as render
    from geo.measures import compliance_trend

    ds = store.get(dataset_id)

    def compute() -> bytes:
        analysis = store.analysis(ds.id)
        trend = compliance_trend(ds.data, store.authority, as_at=analysis.as_at, with_keys=True)
        b = store.boundaries
        coverage = None
        if ds.carers is not None:
            from app.coverage_view import report_coverage

            coverage = report_coverage(store, ds.id)
        report = build_report(
            analysis,
            trend=trend,
            coverage=coverage,
            boundaries=b.frame,
            boundaries_note=b.label,
            suppress=suppress,
            benchmark=report_benchmark(store.authority),
            secret=ds.secret,
        )
        return render(report, fmt=fmt)

    data = ds.cached(("report", fmt, suppress, ds.as_at), compute)
    as_at = store.analysis(ds.id).as_at
    name = f"placemap-{store.authority.name.lower().replace(' ', '-')}-{as_at:%Y-%m-%d}.{fmt}"
    return data, name
