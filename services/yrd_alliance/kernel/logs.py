"""The service's log: lines for people, or JSON lines (`<PREFIX>_LOG_FORMAT=json`) for a log
collector, one object per record with its time, level, service, region, logger and message.
A record made while a span is current (kernel.tracing) carries its trace and span ids."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from opentelemetry import trace


class TraceIds(logging.Filter):
    """Puts the current span's trace and span ids on the record ("" when nothing is traced)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        trace_id = format(context.trace_id, "032x") if context.is_valid else ""
        record.__dict__.update(
            trace_id=trace_id,
            span_id=format(context.span_id, "016x") if context.is_valid else "",
            trace=f" trace={trace_id}" if trace_id else "",
        )
        return True


class JsonLines(logging.Formatter):
    def __init__(self, service: str, region: str) -> None:
        super().__init__()
        self._fields = {"service": service, "region": region}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            **self._fields,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "trace_id", ""):
            entry["trace_id"], entry["span_id"] = (
                record.__dict__["trace_id"],
                record.__dict__["span_id"],
            )
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def handler(service: str, region: str, form: str) -> logging.Handler:
    """Writes to stderr in the form asked for, trace ids included."""
    writer = logging.StreamHandler()
    writer.addFilter(TraceIds())
    if form == "json":
        writer.setFormatter(JsonLines(service, region))
    else:
        writer.setFormatter(
            logging.Formatter(
                f"%(asctime)s %(levelname)s {service}/{region} %(name)s: %(message)s%(trace)s"
            )
        )
    return writer


def configure(service: str, region: str, level: str, form: str) -> None:
    logging.basicConfig(level=level.upper(), handlers=[handler(service, region, form)], force=True)
