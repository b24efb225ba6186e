"""The service's log: lines for people, or JSON lines (`<PREFIX>_LOG_FORMAT=json`) for a log
collector, one object per record with its time, level, service, region, logger and message."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


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
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(service: str, region: str, level: str, form: str) -> None:
    handler = logging.StreamHandler()
    if form == "json":
        handler.setFormatter(JsonLines(service, region))
    else:
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s %(levelname)s {service}/{region} %(name)s: %(message)s")
        )
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
