"""Follow a growing file by name, like ``tail -F``, as a :class:`~.base.Source`.

``FollowSource(path).chunks()`` yields the file's complete lines (from the start, or from
the end of what is already there with ``from_end=True``) and then, forever, every line that
is appended, until :meth:`FollowSource.close` is called or the generator is closed. Pieces
are joined by a :class:`~.lines.LineSplitter`, so a line written in two ``write()`` calls is
yielded once, whole.

The path is followed by *name*, surviving the usual log rotations without losing or
repeating a line:

* truncation in place (logrotate ``copytruncate``): the file became shorter than what we
  already read, so reading restarts at offset 0 of the same file;
* rename rotation and delete + recreate: once the new file at the path has data, the old
  file descriptor is drained to its end (writers may keep appending to it for a moment)
  and then the new file is read from offset 0. Until then (path missing, or new file still
  empty) the old descriptor keeps being followed.

Waiting costs nothing: on Linux the file and its directory are watched with inotify (through
``ctypes``, no third-party dependency) and the follower sleeps in ``poll()`` until the kernel
reports a change, with ``poll_interval`` as a safety-net timeout that re-checks everything.
Elsewhere (or when inotify cannot be used) it falls back to cheap polling every 50 ms.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import select
import stat
import struct
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from buzzline_cli.transports.lines import DEFAULT_MAX_LINE_BYTES, LineSplitter

__all__ = ["FollowSource"]

# Fallback polling period, and the period used while a watch could not be set up.
FAST_POLL = 0.05

# inotify(7) event bits.
IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
FILE_MASK = IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF | IN_CLOSE_WRITE
DIR_MASK = IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR
_EVENT = struct.Struct("iIII")  # struct inotify_event header: wd, mask, cookie, len


@functools.cache
def _load_libc() -> ctypes.CDLL | None:
    """libc with the inotify functions typed, or ``None`` where inotify is not available."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        init1 = libc.inotify_init1
        add = libc.inotify_add_watch
        rm = libc.inotify_rm_watch
    except (OSError, AttributeError):
        return None
    init1.argtypes = [ctypes.c_int]
    init1.restype = ctypes.c_int
    add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    add.restype = ctypes.c_int
    rm.argtypes = [ctypes.c_int, ctypes.c_int]
    rm.restype = ctypes.c_int
    return libc


class _PollWaiter:
    """Fallback waiting: sleep ``FAST_POLL`` seconds, or less if the source is closed."""

    def __init__(self, closed: threading.Event) -> None:
        self._closed = closed

    def watch_file(self, path: Path) -> int | None:
        """Ask to be woken when the file now at ``path`` changes; returns a watch id."""
        return None

    def unwatch(self, wd: int | None) -> None:
        """Drop a watch returned by :meth:`watch_file`."""

    def wait(self, urgent: bool) -> None:
        """Block until something may have changed (or a timeout), or close() is called.

        ``urgent`` means a file we read is not watched, so the wait must be short.
        """
        self._closed.wait(FAST_POLL)

    def close(self) -> None:
        """Release what the waiter holds."""


class _InotifyWaiter(_PollWaiter):
    """Waiting on inotify: used only as a doorbell, the follower re-checks the files itself.

    The parent directory is watched for entries appearing and disappearing (the followed
    name being created, renamed or deleted); each followed file for writes, truncation and
    its own rename/deletion. A self-pipe lets :meth:`FollowSource.close` wake us up.
    """

    def __init__(
        self,
        libc: ctypes.CDLL,
        ino_fd: int,
        wake_fd: int,
        path: Path,
        interval: float,
        closed: threading.Event,
    ) -> None:
        super().__init__(closed)
        self._libc = libc
        self._fd = ino_fd
        self._wake_fd = wake_fd
        self._dir = path.parent
        self._interval = interval
        self._live: set[int] = set()
        self._dir_wd: int | None = None
        self._poll = select.poll()
        self._poll.register(ino_fd, select.POLLIN)
        self._poll.register(wake_fd, select.POLLIN)
        self._watch_dir()

    @classmethod
    def create(
        cls, path: Path, interval: float, closed: threading.Event, wake_fd: int
    ) -> _InotifyWaiter | None:
        libc = _load_libc()
        if libc is None:
            return None
        fd = int(libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC))
        if fd < 0:  # e.g. EMFILE: fs.inotify.max_user_instances exhausted
            return None
        return cls(libc, fd, wake_fd, path, interval, closed)

    def _add(self, path: Path, mask: int) -> int | None:
        wd = int(self._libc.inotify_add_watch(self._fd, os.fsencode(path), mask))
        if wd < 0:  # ENOENT, ENOSPC (max_user_watches), EACCES...: degrade to polling
            return None
        self._live.add(wd)
        return wd

    def _watch_dir(self) -> None:
        self._dir_wd = self._add(self._dir, DIR_MASK)

    def watch_file(self, path: Path) -> int | None:
        # Watching the same inode twice returns the same wd (its mask is just replaced).
        return self._add(path, FILE_MASK)

    def unwatch(self, wd: int | None) -> None:
        if wd is not None and wd in self._live and wd != self._dir_wd:
            self._live.discard(wd)
            self._libc.inotify_rm_watch(self._fd, wd)

    def wait(self, urgent: bool) -> None:
        if self._dir_wd is None:  # the directory did not exist yet (or was removed)
            self._watch_dir()
        fast = urgent or self._dir_wd is None
        timeout = FAST_POLL if fast else self._interval
        # poll() runs Python signal handlers while it waits (PEP 475 retries it unless the
        # handler raises, and then the exception ends the follow loop cleanly).
        ready = self._poll.poll(int(timeout * 1000) + 1)
        if any(fd == self._fd for fd, _ in ready):
            self._read_events()

    def _read_events(self) -> None:
        # Drain the queue *after* waking and *before* the caller reads the files: a change
        # made after this read queues a new event, so no wake-up can be lost.
        try:
            buf = os.read(self._fd, 64 * 1024)
        except BlockingIOError:
            return
        off = 0
        while off + _EVENT.size <= len(buf):
            wd, mask, _cookie, length = _EVENT.unpack_from(buf, off)
            off += _EVENT.size + length
            if mask & IN_IGNORED:  # the kernel dropped this watch (inode gone, unmount)
                self._live.discard(wd)
                if wd == self._dir_wd:
                    self._dir_wd = None

    def close(self) -> None:
        os.close(self._fd)  # also removes every watch


@dataclass
class _Open:
    """One open file being followed."""

    fd: int
    dev: int
    ino: int
    splitter: LineSplitter
    offset: int = 0
    wd: int | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.dev, self.ino)


class FollowSource:
    """Follow ``path`` by name like ``tail -F``; see the module docstring.

    ``from_end`` skips what the file already holds (reading starts after its last complete
    line, so a line being written at that moment is not cut). A path that does not exist yet
    is waited for. Lines longer than ``max_line_bytes`` are cut and counted in ``oversize``.
    ``poll_interval`` is the safety-net re-check period while inotify reports nothing;
    ``read_size`` the largest single read.
    """

    def __init__(
        self,
        path: Path,
        *,
        from_end: bool = False,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        poll_interval: float = 0.25,
        read_size: int = 256 * 1024,
    ) -> None:
        if max_line_bytes < 1:
            raise ValueError("max_line_bytes must be at least 1")
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        if read_size < 1:
            raise ValueError("read_size must be at least 1")
        self.path = Path(path)
        self.name = str(self.path)
        self.from_end = from_end
        self.max_line_bytes = max_line_bytes
        self.poll_interval = poll_interval
        self.read_size = read_size
        self._closed = threading.Event()
        # Re-entrant: close() may run in a signal handler on a thread inside a locked block.
        self._lock = threading.RLock()
        self._wakers: list[int] = []  # write ends of the self-pipes of running iterations
        self._live: list[LineSplitter] = []  # splitters of the files currently open
        self._oversize_done = 0  # oversize counts of files already released

    # -- Source protocol ---------------------------------------------------------------------

    @property
    def oversize(self) -> int:
        """Lines cut to ``max_line_bytes`` so far, over every file followed."""
        return self._oversize_done + sum(s.oversize for s in list(self._live))

    def commit(self) -> None:
        """Nothing to acknowledge for a file."""

    def close(self) -> None:
        """Stop following. Safe from another thread or a signal handler, and idempotent.

        A running ``chunks()`` returns at its next wait or yield and releases its file
        descriptors in its ``finally``.
        """
        with self._lock:
            self._closed.set()
            for w in self._wakers:
                with contextlib.suppress(OSError):  # full pipe: it is already awake
                    os.write(w, b"\0")

    def chunks(self) -> Iterator[bytes]:
        """Yield complete lines, as they are appended, until closed."""
        if self._closed.is_set():
            return
        waiter, pipe = self._make_waiter()
        cur: _Open | None = None  # the file being read
        nxt: _Open | None = None  # a newer file found at the path, opened, not read yet
        try:
            cur = self._open(waiter, initial=True)
            while not self._closed.is_set():
                if cur is None:
                    cur = self._open(waiter, initial=False)
                    if cur is None:  # not there yet: the directory watch tells us when
                        waiter.wait(urgent=False)
                        continue
                yield from self._read_available(cur)
                if self._closed.is_set():
                    break
                nxt = self._next_file(cur, nxt, waiter)
                if nxt is None or os.fstat(nxt.fd).st_size == 0:
                    unwatched = cur.wd is None or (nxt is not None and nxt.wd is None)
                    waiter.wait(urgent=unwatched)
                    continue
                # Rotation: the newer file has data, so writers have moved on to it. Drain
                # the old descriptor to its end first (a writer may have appended to it
                # after the rename or unlink), emit its unterminated last line if any, then
                # read the new file from offset 0. Order across the two files is kept.
                yield from self._read_available(cur)
                if self._closed.is_set():
                    break
                tail = cur.splitter.finish()
                self._release(cur, waiter)
                cur, nxt = nxt, None
                if tail:
                    yield tail
        finally:
            if nxt is not None:
                self._release(nxt, waiter)
            if cur is not None:
                self._release(cur, waiter)
            self._drop_waiter(waiter, pipe)

    # -- internals ---------------------------------------------------------------------------

    def _make_waiter(self) -> tuple[_PollWaiter, tuple[int, int] | None]:
        if _load_libc() is None:
            return _PollWaiter(self._closed), None
        r, w = os.pipe()
        os.set_blocking(r, False)
        os.set_blocking(w, False)
        waiter = _InotifyWaiter.create(self.path, self.poll_interval, self._closed, r)
        if waiter is None:
            os.close(r)
            os.close(w)
            return _PollWaiter(self._closed), None
        with self._lock:
            self._wakers.append(w)
        return waiter, (r, w)

    def _drop_waiter(self, waiter: _PollWaiter, pipe: tuple[int, int] | None) -> None:
        waiter.close()
        if pipe is not None:
            with self._lock:
                # Unregister before closing, so close() never writes to a reused fd number.
                self._wakers.remove(pipe[1])
                os.close(pipe[0])
                os.close(pipe[1])

    def _open_path(self) -> _Open | None:
        """Open whatever is at the path now, or ``None`` if nothing is."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except (FileNotFoundError, NotADirectoryError):
            return None
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), self.name)
            if not stat.S_ISREG(st.st_mode):  # sizes and offsets mean nothing for a FIFO
                raise OSError(errno.EINVAL, "not a regular file", self.name)
        except BaseException:
            os.close(fd)
            raise
        opened = _Open(fd, st.st_dev, st.st_ino, LineSplitter(self.max_line_bytes))
        self._live.append(opened.splitter)
        return opened

    def _watch(self, waiter: _PollWaiter, key: tuple[int, int]) -> int | None:
        """Watch the file at the path, expected to be ``key``; ``None`` if it is not."""
        wd = waiter.watch_file(self.path)
        try:
            st = self.path.stat()
        except OSError:
            return None
        # Replaced between open/stat and the watch: that wd belongs to the newer file, which
        # will adopt it (adding a watch on the same inode returns the same wd).
        return wd if (st.st_dev, st.st_ino) == key else None

    def _open(self, waiter: _PollWaiter, *, initial: bool) -> _Open | None:
        opened = self._open_path()
        if opened is None:
            return None
        try:
            if initial and self.from_end:
                size = os.fstat(opened.fd).st_size
                opened.offset = self._tail_start(opened.fd, size)
                os.lseek(opened.fd, opened.offset, os.SEEK_SET)
            opened.wd = self._watch(waiter, opened.key)
        except BaseException:
            self._release(opened, waiter)
            raise
        return opened

    def _tail_start(self, fd: int, size: int) -> int:
        """Where ``from_end`` starts: just after the last newline near the end of the file."""
        look = min(size, self.max_line_bytes)
        if look == 0:
            return size
        os.lseek(fd, size - look, os.SEEK_SET)
        tail = b""
        while len(tail) < look:
            piece = os.read(fd, look - len(tail))
            if not piece:
                break
            tail += piece
        nl = tail.rfind(b"\n")
        return size if nl < 0 else size - look + nl + 1

    def _read_available(self, cur: _Open) -> Iterator[bytes]:
        """Read ``cur`` to its current end, yielding complete lines; handle truncation."""
        while True:
            data = os.read(cur.fd, self.read_size)
            if data:
                cur.offset += len(data)
                out = cur.splitter.feed(data)
                if out:
                    yield out
                    if self._closed.is_set():
                        return
                if len(data) == self.read_size:
                    continue  # probably more: skip the size check
            size = os.fstat(cur.fd).st_size
            if size > cur.offset:
                continue
            if size == cur.offset:
                return
            # Truncated in place (copytruncate): the file is now shorter than what we already
            # read, so what it holds was written after the truncation; start again at 0.
            # Inherent race: if, before we look, the writer already wrote past our old
            # offset, the file never looks shorter and that new head is missed (tail -F has
            # the same blind spot). inotify wakes us within a millisecond, which keeps the
            # window tiny. An unterminated last line before the cut is emitted as a line.
            tail = cur.splitter.finish()
            os.lseek(cur.fd, 0, os.SEEK_SET)
            cur.offset = 0
            if tail:
                yield tail

    def _next_file(self, cur: _Open, nxt: _Open | None, waiter: _PollWaiter) -> _Open | None:
        """The newer file to switch to once it has data (``nxt`` so far, or a newer one).

        Rotation is detected by identity: ``stat(path)`` no longer gives our descriptor's
        (st_dev, st_ino). The new file is opened at once, even while empty, so it can still
        be read if it is rotated away again before we switch to it. We only switch when it
        has data: until then a writer that has not reopened its log yet may still append to
        the old file, and staying costs nothing since the new one has nothing to read. While
        the path is missing (renamed or deleted, not recreated yet) the old descriptor keeps
        being followed too.
        """
        try:
            st = self.path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return nxt
        key = (st.st_dev, st.st_ino)
        if key == cur.key or (nxt is not None and key == nxt.key):
            return nxt
        if nxt is not None and os.fstat(nxt.fd).st_size > 0:
            return nxt  # switch to it first; the next round finds the even newer one
        # A still-empty ``nxt`` that was replaced in turn is dropped for the newest file.
        opened = self._open_path()
        if opened is None or opened.key == cur.key:  # gone again, or renamed back
            if opened is not None:
                self._release(opened, waiter)
            return nxt
        opened.wd = self._watch(waiter, opened.key)  # to hear when it gets data
        if nxt is not None:
            self._release(nxt, waiter)
        return opened

    def _release(self, opened: _Open, waiter: _PollWaiter) -> None:
        """Close a followed file and drop its watch."""
        waiter.unwatch(opened.wd)
        with contextlib.suppress(ValueError):
            self._live.remove(opened.splitter)
        self._oversize_done += opened.splitter.oversize
        os.close(opened.fd)
