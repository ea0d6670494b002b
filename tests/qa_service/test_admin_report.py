"""The admin re-ingest job reports the same ingest report the CLI prints: one type."""

from __future__ import annotations

from dataclasses import asdict, fields

from ingest.build import IngestReport
from qa_service.routes.admin import ReingestJobResponse


def test_the_admin_job_carries_every_field_of_the_ingest_report() -> None:
    report = IngestReport(
        "b1", "c1", 6, 244, 0, 1, 243, 0, 1, 2.5, True, 3, 6,
        stale_questions=["social-insurance-law:19"], renderings=600, missing_renderings=8,
        stale_renderings=["个人跨统筹地区就业的…"],
    )
    job = ReingestJobResponse(
        job_id="j", status="succeeded", started_at="2026-12-01T00:00:00+00:00", report=asdict(report),
        status_url="/v1/admin/reingest/j",
    )
    dumped = job.model_dump()["report"]
    assert set(dumped) == {f.name for f in fields(IngestReport)}
    assert dumped["stale_questions"] == ["social-insurance-law:19"]
    assert dumped["stale_renderings"] == ["个人跨统筹地区就业的…"]
