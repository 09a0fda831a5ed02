"""Files as a Sink (append, whole lines) and a Source (read to the end, or followed)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import BinaryIO

from buzzline_cli.errors import BuzzlineError
from buzzline_cli.transports.lines import DEFAULT_MAX_LINE_BYTES
from buzzline_cli.transports.stdio import FdSink, StreamSource


def _describe(error: OSError) -> str:
    return error.strerror or str(error)


def file_sink(path: Path) -> FdSink:
    """Append to ``path`` (never clobber a log), creating missing parent folders.

    Each write is one ``O_APPEND`` syscall of whole lines, so a reader never sees half a
    message written by us, and two producers appending to one file don't interleave lines.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as error:
        raise BuzzlineError(f"cannot write to {path}: {_describe(error)}") from None
    return FdSink(fd, str(path), owned=True)


def file_source(path: Path, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> StreamSource:
    """Read ``path`` from its start to its end."""
    if path.is_dir():
        raise BuzzlineError(f"cannot read {path}: it is a directory")
    try:
        stream: BinaryIO = path.open("rb", buffering=0)
        if stream.read(2) == b"\x1f\x8b":  # gzip's magic number, whatever the name
            stream.seek(0)
            stream = gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[assignment]
        else:
            stream.seek(0)
    except OSError as error:
        raise BuzzlineError(f"cannot read {path}: {_describe(error)}") from None
    return StreamSource(stream, str(path), max_line_bytes=max_line_bytes, close_stream=True)
