"""Re-ingest jobs started over HTTP: `ingest.build.run_ingest` in a background
thread, one at a time, with its report kept for the status endpoint.

The job reads the corpus from settings.corpus_dir and writes settings.data_dir:
nothing in the request names a file. When the new version is published, the
running engine is asked to switch (`maybe_reload`, which every request also calls).
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from ingest.build import IngestBusy, IngestReport, run_ingest
from ingest.version import current_build_id
from qa_service.settings import ServiceSettings

log = logging.getLogger("qa_service.reingest")

KEEP_JOBS = 20
# The lock file ingest.build takes (fcntl.flock) for one ingest per data directory.
INGEST_LOCK_FILE = ".lock"


class JobStatus(str, Enum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


@dataclass
class Job:
    id: str
    status: JobStatus = JobStatus.running
    started_at: str = field(default_factory=lambda: _now())
    finished_at: str | None = None
    report: dict[str, Any] | None = None
    summary: str | None = None
    error: str | None = None


class JobRunning(RuntimeError):
    """Another re-ingest (this process's or another process's) holds the data directory."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def ingest_lock_free(settings: ServiceSettings) -> bool:
    """Whether no ingest (CLI or other process) holds the data directory's lock right now."""
    lock = settings.index_dir / INGEST_LOCK_FILE
    if not lock.exists():
        return True
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


class ReingestJobs:
    """At most one job runs; the last KEEP_JOBS are kept for GET /v1/admin/reingest/{job}."""

    def __init__(
        self,
        settings: ServiceSettings,
        engine: Callable[[], Any],
        ingest: Callable[..., IngestReport] = run_ingest,
        on_finish: Callable[[Job], None] | None = None,
    ) -> None:
        self.settings = settings
        self._engine = engine  # the app's current engine, or None while it loads
        self._ingest = ingest
        self._on_finish = on_finish
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._running: Job | None = None

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def start(self) -> Job:
        with self._lock:
            if self._running is not None:
                raise JobRunning(f"re-ingest job {self._running.id} is still running")
            if not ingest_lock_free(self.settings):
                raise JobRunning(f"another ingest is running on {self.settings.index_dir.name}")
            job = Job(id=uuid.uuid4().hex[:16])
            self._running = job
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP_JOBS:
                self._jobs.popitem(last=False)
        threading.Thread(target=self._run, args=(job,), name=f"reingest-{job.id}", daemon=True).start()
        return job

    def _embedders(self) -> list[Any] | None:
        """Reuse the models the engine has loaded (same model ids, so the same build id)."""
        engine = self._engine()
        loaded = getattr(engine, "embedders", None) or {}
        if not all(name in loaded for name in self.settings.embedders):
            return None  # run_ingest loads what is missing itself
        return [loaded[name] for name in self.settings.embedders]

    def _run(self, job: Job) -> None:
        log.info("re-ingest job %s started", job.id, extra={"event": "reingest", "job": job.id, "status": "running"})
        try:
            report = self._ingest(self.settings, progress=False, embedders=self._embedders())
        except IngestBusy as exc:
            self._finish(job, JobStatus.failed, error=f"another ingest is running: {exc}")
        except Exception as exc:  # a CorpusError names file and line; anything else is logged in full
            first = str(exc).splitlines()[0] if str(exc) else ""
            log.error("re-ingest job %s failed", job.id, exc_info=exc, extra={"event": "reingest", "job": job.id})
            self._finish(job, JobStatus.failed, error=f"{type(exc).__name__}: {first}")
        else:
            job.report = asdict(report)
            job.summary = report.summary()
            self._switch(report.build_id)
            self._finish(job, JobStatus.succeeded)

    def _switch(self, build_id: str) -> None:
        """Have the engine serve the new version now rather than at the next request.
        maybe_reload() looks at most every reload_check_s, so try past one interval."""
        deadline = time.monotonic() + self.settings.reload_check_s + 2.0
        while time.monotonic() < deadline:
            engine = self._engine()
            if engine is None or engine.index.build_id == build_id:
                return
            if current_build_id(self.settings.index_dir) != build_id:
                return  # another version was published since: requests will pick it up
            try:
                engine.maybe_reload()
            except Exception as exc:  # e.g. Chroma down: requests will retry the switch
                log.warning("switch to index %s deferred: %s", build_id, exc)
                return
            if engine.index.build_id == build_id:
                return
            time.sleep(min(0.25, self.settings.reload_check_s or 0.25))

    def _finish(self, job: Job, status: JobStatus, error: str | None = None) -> None:
        job.status, job.error, job.finished_at = status, error, _now()
        with self._lock:
            self._running = None
        log.info(
            "re-ingest job %s %s", job.id, status.value,
            extra={"event": "reingest", "job": job.id, "status": status.value, "summary": job.summary, "error": error},
        )
        if self._on_finish is not None:
            self._on_finish(job)
