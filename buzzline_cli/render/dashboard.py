"""``buzzline consume --dashboard``: live charts of the stream, full screen, in the terminal.

The dashboard is a renderer for ``ConsumeCore`` that draws nothing when it is handed events:
per batch it only updates cheap state under a lock — one ``Counter.update`` of small integer
keys (each event's state, topic and alert, resolved once and cached on the shared ``Event``),
a per-second message count, the last few alerts and a sample of timestamp lags. A drawing
thread takes a snapshot of that state at most ``refresh`` times a second and hands a frame to
Rich's ``Live`` on the alternate screen: the reading never waits for a frame (it only shares
the interpreter with the drawing, a few milliseconds per frame), and every frame is laid out
for the terminal's size at that moment, so a resize re-lays the screen.

Message text (and every label taken from the input) is untrusted: it goes through
``safe.printable`` and into Rich ``Text``, never markup, as in panel mode. Rich is imported
only when a dashboard is actually shown or rendered.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import signal
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import compress, islice
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

from buzzline_cli.errors import BuzzlineError, UsageError
from buzzline_cli.parsing import SentenceParser, parse_stamp
from buzzline_cli.render.safe import printable
from buzzline_cli.windows import Clock, RateRing, SlidingCounter, parse_duration

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.live import Live

    from buzzline_cli.consume import Event, Summary
    from buzzline_cli.rules import Matcher

MAX_REFRESH = 4.0  # redraws per second, at most
DRAW_SHARE = 0.05  # of the time, at most, spent drawing (unless that means < 1 frame/s)
DEFAULT_WINDOW = 60.0
EXPORT_SUFFIXES = (".svg", ".html", ".txt")
RATE_SECONDS = 300  # the sparkline's history: five minutes
KEEP_RECENT = 32
KEEP_LAGS = 10_000
LAG_SAMPLES = 32  # per batch, evenly spread: enough for percentiles, bounded work
MAX_KEYS = 20_000  # distinct (state, topic, alert) combinations before the rest is "other"
_PARTS_MEMO_LIMIT = 1 << 16
OTHER = "(other)"
# Below these sizes the screen drops panels: first the recent alerts, then all but totals.
FULL_SIZE = (80, 24)
SMALL_SIZE = (60, 16)

_RENDERED = attrgetter("rendered")
_MATCH = attrgetter("match")
_EIGHTHS = " ▏▎▍▌▋▊▉"
_SPARKS = "▁▂▃▄▅▆▇█"


# -- options -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardOptions:
    window: float = DEFAULT_WINDOW  # seconds of the rolling counts
    refresh: float = MAX_REFRESH  # redraws per second
    export: Path | None = None  # where to save the last frame (SVG, HTML or text)


def options_from_flags(
    *,
    dashboard: bool,
    format: str | None = None,
    window: str | None = None,
    refresh: float | None = None,
    export: Path | None = None,
) -> DashboardOptions | None:
    """The dashboard's options from consume's flags, or None without ``--dashboard``."""
    if not dashboard:
        given = [
            name
            for name, value in (("--window", window), ("--refresh", refresh), ("--export", export))
            if value is not None
        ]
        if given:
            raise UsageError(f"{given[0]} only applies to --dashboard")
        return None
    if format in ("json", "plain"):
        raise UsageError(
            f"--dashboard draws on the terminal: it cannot be combined with --format {format}"
        )
    seconds = DEFAULT_WINDOW
    if window is not None:
        try:
            seconds = parse_duration(window)
        except ValueError as error:
            raise UsageError(f"--window: {error}") from None
        if seconds < 1:
            raise UsageError(f"--window must be at least 1s (got {window!r})")
    rate = MAX_REFRESH if refresh is None else refresh
    if not 0 < rate <= MAX_REFRESH:
        raise UsageError(f"--refresh must be more than 0 and at most {MAX_REFRESH:g} (per second)")
    if export is not None:
        if export.suffix.lower() not in EXPORT_SUFFIXES:
            raise UsageError(f"--export writes {', '.join(EXPORT_SUFFIXES)} files, not {export}")
        if not export.expanduser().parent.is_dir():
            raise UsageError(f"--export: no such folder: {export.expanduser().parent}")
    return DashboardOptions(seconds, rate, export)


def require_terminal(stream: TextIO | None = None) -> None:
    """Refuse (exit 2) unless ``stream`` (stdout) is a terminal that can redraw."""
    stream = sys.stdout if stream is None else stream
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if not tty:
        raise UsageError(
            "--dashboard needs a terminal, and stdout is not one "
            "(use --format plain or json to write alerts to a pipe or file)"
        )
    if os.environ.get("TERM") == "dumb":
        raise UsageError("--dashboard needs a terminal that can redraw, and TERM is dumb")


# -- the state kept while reading --------------------------------------------------------------


class Key(NamedTuple):
    """What the rolling counts tell apart: one event's state, topic and alert."""

    state: str | None
    topic: str | None
    keywords: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()

    @property
    def alert(self) -> bool:
        return bool(self.keywords or self.rules)


@dataclass(frozen=True)
class Recent:
    """One line of the recent-alerts panel, already escaped."""

    when: str
    title: str
    message: str
    spans: tuple[tuple[int, int], ...] = ()
    style: str = ""
    alert: bool = True


@dataclass
class Snapshot:
    """Everything one frame shows; made under the lock, drawn outside it."""

    source: str
    elapsed: float
    rate: float
    series: list[int]
    messages: int
    alerts: int
    malformed: int
    window: float
    in_window: int
    states: list[tuple[str, int]]
    topics: list[tuple[str, int]]
    unparsed: int  # messages in the window whose state and topic are unknown
    alerting: bool  # any rule at all
    by_rule: list[tuple[str, str, int, int]]  # kind, name, in the window, in all
    recent: list[Recent]
    lag: tuple[float, float, int] | None  # p50, p99 (seconds), samples
    seq: tuple[int, int, int] | None  # lost, duplicated, runs


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Dashboard:
    """A ``Renderer`` that keeps rolling counts and draws them from a thread of its own."""

    def __init__(
        self,
        matcher: Matcher,
        parser: SentenceParser | None = None,
        *,
        source: str = "",
        window: float = DEFAULT_WINDOW,
        refresh: float = MAX_REFRESH,
        export: Path | None = None,
        clock: Clock = time.monotonic,
        wallclock: Clock = time.time,
    ) -> None:
        self.matcher = matcher
        self.parser = parser
        self.source = source
        self.window = window
        self.refresh = min(max(refresh, 0.01), MAX_REFRESH)
        self.export = export
        self.summary: Summary | None = None
        self._clock = clock
        self._wallclock = wallclock
        self.started = clock()
        self._alerting = matcher.active
        self._lock = threading.Lock()
        self._counts: SlidingCounter[int] = SlidingCounter(
            window, max(1.0, window / 600), clock, origin=self.started
        )
        self._rates = RateRing(RATE_SECONDS, 1.0, clock, origin=self.started)
        self._messages = 0
        self._recent: deque[tuple[Event, float]] = deque(maxlen=KEEP_RECENT)
        self._lags: deque[float] = deque(maxlen=KEEP_LAGS)
        self._keys: list[Key] = []
        self._index_of: dict[Key, int] = {}
        self._parts_memo: dict[str, tuple[str | None, str | None]] = {}
        self._stopping = threading.Event()
        self._failure: BaseException | None = None
        self._seq: tuple[int, int, int] | None = None  # the last seq figures read
        self.size: tuple[int, int] = (100, 30)  # the terminal's, as of the last frame

    def attach(self, summary: Summary, source: str | None = None) -> None:
        """Read the core's summary (malformed lines, seq) when drawing."""
        self.summary = summary
        if source is not None:
            self.source = source

    # -- the reading side: cheap, C-level passes per batch ------------------------------------

    def emit(self, events: Sequence[Event], lines: Sequence[int]) -> None:
        keys: list[int | None] = list(map(_RENDERED, events))
        if None in keys:
            self._resolve(events, keys)
        now = self._clock()
        if self._alerting:  # the last few alerts, newest first; stops as soon as it has them
            backwards = reversed(events)
            tail = list(islice(compress(backwards, map(_MATCH, reversed(events))), KEEP_RECENT))
        else:
            tail = list(reversed(events[-KEEP_RECENT:]))
        lags = self._sample_lags(events)
        with self._lock:
            self._counts.add(keys, now)  # type: ignore[arg-type]  # no None left
            self._rates.add(len(keys), now)
            self._messages += len(keys)
            if tail:
                wall = self._wallclock()
                self._recent.extend([(event, wall) for event in reversed(tail)])
            if lags:
                self._lags.extend(lags)

    def flush(self) -> None:
        """Nothing to do: drawing happens on its own schedule."""

    def _sample_lags(self, events: Sequence[Event]) -> list[float]:
        step = max(1, len(events) // LAG_SAMPLES)
        stamps = [e.stamp for e in events[::step] if e.stamp is not None]
        if not stamps:
            return []
        now = self._wallclock()
        out = []
        for stamp in stamps:
            moment = parse_stamp(stamp)
            if moment is not None:
                out.append(now - moment.timestamp())
        return out

    def _resolve(self, events: Sequence[Event], keys: list[int | None]) -> None:
        """Give every event its key (once: it is cached on the event, which is shared)."""
        for i in [i for i, key in enumerate(keys) if key is None]:
            event = events[i]
            key = event.rendered
            if key is None:
                key = event.rendered = self._key_of(event)
            keys[i] = key

    def _parts(self, event: Event) -> tuple[str | None, str | None]:
        fields = event.fields
        if fields is not None:
            state, topic = fields.get("state"), fields.get("topic")
            if isinstance(state, str) or isinstance(topic, str):
                return (
                    state if isinstance(state, str) else None,
                    topic if isinstance(topic, str) else None,
                )
        message = event.message
        found = self._parts_memo.get(message)
        if found is None:
            parts = self.parser.parts(message) if self.parser is not None else None
            found = (parts.get("state"), parts.get("topic")) if parts else (None, None)
            if len(self._parts_memo) >= _PARTS_MEMO_LIMIT:
                self._parts_memo.clear()
            self._parts_memo[message] = found
        return found

    def _key_of(self, event: Event) -> int:
        state, topic = self._parts(event)
        match = event.match
        key = Key(state, topic, *((match.keywords, match.rules) if match else ()))
        index = self._index_of.get(key)
        if index is None:
            if len(self._keys) >= MAX_KEYS:  # hostile or endless labels: fold the rest
                key = Key(
                    None if state is None else OTHER, None if topic is None else OTHER, *key[2:]
                )
                index = self._index_of.get(key)
                if index is not None:
                    return index
            index = len(self._keys)
            self._keys.append(key)
            self._index_of[key] = index
        return index

    # -- the drawing side ---------------------------------------------------------------------

    def snapshot(self, now: float | None = None) -> Snapshot:
        """The figures of one frame (taken under the lock, aggregated outside it)."""
        now = self._clock() if now is None else now
        with self._lock:
            window = self._counts.totals(now)
            total = self._counts.all_time(now)
            series = self._rates.series(now)
            rate = self._rates.rate(now)
            recent = list(self._recent)
            lags = list(self._lags)
            messages = self._messages
        keys = self._keys
        states: Counter[str] = Counter()
        topics: Counter[str] = Counter()
        rules_w: Counter[str] = Counter()
        words_w: Counter[str] = Counter()
        unparsed = 0
        for index, n in window.items():
            key = keys[index]
            if key.state is not None:
                states[key.state] += n
            if key.topic is not None:
                topics[key.topic] += n
            if key.state is None and key.topic is None:
                unparsed += n
            for rule in key.rules:
                rules_w[rule] += n
            for word in key.keywords:
                words_w[word] += n
        rules_t: Counter[str] = Counter({r.name: 0 for r in self.matcher.rules})
        words_t: Counter[str] = Counter(dict.fromkeys(self.matcher.keywords, 0))
        alerts = 0
        for index, n in total.items():
            key = keys[index]
            if key.alert:
                alerts += n
                for rule in key.rules:
                    rules_t[rule] += n
                for word in key.keywords:
                    words_t[word] += n
        # Configured rules and keywords first, in their order (rows that don't jump about),
        # then the other words rules matched, by count.
        by_rule = [("rule", name, rules_w[name], n) for name, n in rules_t.items()]
        configured = [*self.matcher.keywords, *(w for r in self.matcher.rules for w in r.words)]
        words = [w for w in dict.fromkeys([*configured, *sorted(words_t)]) if w in words_t]
        by_rule += [("keyword", word, words_w[word], words_t[word]) for word in words]
        summary = self.summary
        seq = self._seq
        if summary is not None and summary.seq.seen:
            # The reading thread updates the tracker as we read it: should a figure be caught
            # halfway through a change, keep the last one (it is a frame away from right).
            with contextlib.suppress(IndexError, ValueError, RuntimeError):
                seq = self._seq = (summary.seq.lost, summary.seq.duplicates, summary.seq.runs)
        lag = None
        if lags:
            lags.sort()
            lag = (percentile(lags, 0.5), percentile(lags, 0.99), len(lags))
        return Snapshot(
            source=self.source,
            elapsed=now - self.started,
            rate=rate,
            series=series,
            messages=messages,
            alerts=alerts,
            malformed=summary.malformed if summary is not None else 0,
            window=self.window,
            in_window=sum(window.values()),
            states=states.most_common(),
            topics=topics.most_common(),
            unparsed=unparsed,
            alerting=self._alerting,
            by_rule=by_rule,
            recent=[self._recent_line(event, wall) for event, wall in reversed(recent)],
            lag=lag,
            seq=seq,
        )

    def _recent_line(self, event: Event, wall: float) -> Recent:
        stamp = event.stamp
        if stamp and len(stamp) >= 19:
            when = printable(stamp[11:19])
        else:
            when = datetime.fromtimestamp(wall).strftime("%H:%M:%S")
        message = printable(event.message)
        match = event.match
        if match is None:
            return Recent(when, "", message, alert=False)
        spans = tuple(self.matcher.spans(message, match.keywords))
        return Recent(when, printable(match.title), message, spans, match.style)

    def frame(self, width: int, height: int, now: float | None = None) -> RenderableType:
        return render_frame(self.snapshot(now), width, height)

    @contextlib.contextmanager
    def showing(self, console: Console | None = None) -> Iterator[Dashboard]:
        """Full screen while the block runs; the terminal is restored on every way out."""
        from rich.console import Console
        from rich.live import Live

        console = console or Console(highlight=False, markup=False, emoji=False)
        live = Live(
            console=console,
            screen=True,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._stopping.clear()
        drawer = threading.Thread(
            target=self._draw_loop, args=(live, console), name="buzzline-dashboard", daemon=True
        )
        live.start()
        try:
            drawer.start()
            yield self
        finally:
            self._stopping.set()
            if drawer.is_alive():
                drawer.join(timeout=10)
            try:
                live.stop()
            except OSError:
                if self._failure is None:
                    raise
            with contextlib.suppress(Exception):
                self.size = (console.size.width, console.size.height)

    def finish(self) -> None:
        """Once the terminal is restored (and the summary printed): save the last frame
        (``--export``), or report why drawing stopped."""
        failure, self._failure = self._failure, None
        if failure is not None:
            raise BuzzlineError(f"the dashboard stopped drawing: {failure}") from failure
        if self.export is not None:
            save_snapshot(self.frame(*self.size), self.export, self.size)

    def _draw_loop(self, live: Live, console: Console) -> None:
        fd = _fileno(console.file)
        while not self._stopping.is_set():
            start = time.perf_counter()
            try:
                self._draw(live, console, fd)
            except Exception as error:  # shown once the terminal is back; stop reading too
                self._failure = error
                _thread.interrupt_main(signal.SIGINT)
                return
            # At most `refresh` frames a second, and drawing (which holds the GIL) never
            # takes more than a small share of the time, however big the terminal.
            spent = time.perf_counter() - start
            self._stopping.wait(min(1.0, max(1.0 / self.refresh, spent / DRAW_SHARE)))

    def _draw(self, live: Live, console: Console, fd: int | None) -> None:
        if fd is not None:
            with contextlib.suppress(OSError):
                columns, lines = os.get_terminal_size(fd)
                if columns and lines:
                    console.size = (columns, lines)  # follow resizes, whatever COLUMNS says
        width, height = console.size
        self.size = (width, height)
        live.update(self.frame(width, height), refresh=True)


def _fileno(stream: Any) -> int | None:
    try:
        return int(stream.fileno())
    except (AttributeError, ValueError, OSError):
        return None


def save_snapshot(frame: RenderableType, path: Path, size: tuple[int, int]) -> None:
    """Write ``frame`` as SVG, HTML or text (by ``path``'s suffix), at ``size``."""
    from io import StringIO

    from rich.console import Console

    width, height = size
    recorder = Console(
        file=StringIO(),
        width=width,
        height=height,
        record=True,
        force_terminal=True,
        color_system="truecolor",
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
    )
    recorder.print(frame, height=height)
    path = path.expanduser()
    suffix = path.suffix.lower()
    try:
        if suffix == ".html":
            recorder.save_html(str(path))
        elif suffix == ".txt":
            recorder.save_text(str(path))
        else:
            recorder.save_svg(str(path), title="buzzline consume --dashboard")
    except OSError as error:
        raise BuzzlineError(f"cannot write {path}: {error.strerror or error}") from None


# -- the frame ---------------------------------------------------------------------------------


def _count(n: float) -> str:
    return f"{n:,.0f}"


def _clock_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _span_text(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def lag_text(seconds: float) -> str:
    """A lag for people: 12 ms, 3.4 s, 5 min 2 s, 2 h 5 min, 3 d 4 h."""
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if s < 0.01:
        return f"{sign}{s * 1000:.1f} ms"
    if s < 1:
        return f"{sign}{s * 1000:.0f} ms"
    if s < 60:
        return f"{sign}{s:.1f} s"
    if s < 3600:
        return f"{sign}{int(s // 60)} min {int(s % 60)} s"
    if s < 86400:
        return f"{sign}{int(s // 3600)} h {int(s % 3600 // 60)} min"
    return f"{sign}{int(s // 86400)} d {int(s % 86400 // 3600)} h"


def _header(snap: Snapshot) -> RenderableType:
    from rich.text import Text

    top = Text(no_wrap=True, overflow="ellipsis")
    top.append("buzzline consume", style="bold")
    top.append(f" · {printable(snap.source)} · {_clock_text(snap.elapsed)}", style="dim")
    totals = Text(no_wrap=True, overflow="ellipsis")
    totals.append(_count(snap.rate), style="bold cyan")
    totals.append(" msg/s now · messages ")
    totals.append(_count(snap.messages), style="bold")
    totals.append(" · alerts ")
    totals.append(_count(snap.alerts), style="bold red" if snap.alerts else "bold")
    totals.append(" · malformed ")
    totals.append(_count(snap.malformed), style="bold yellow" if snap.malformed else "bold")
    return Text("\n").join([top, totals])


def _lag_seq_lines(snap: Snapshot, rows: int = 2) -> list[Any]:
    """Lag and seq figures: on two lines, or on three (p50 and p99 apart) when there's room."""
    from rich.text import Text

    lines: list[Any] = []
    if snap.lag is None:
        lines.append(Text("lag: no timestamps in this input", style="dim"))
    else:
        p50, p99, n = snap.lag
        line = Text("lag p50 ")
        line.append(lag_text(p50), style="bold")
        if rows >= 3:
            lines.append(line)
            line = Text("lag p99 ")
        else:
            line.append(" · p99 ")
        line.append(lag_text(p99), style="bold")
        line.append(f" ({_count(n)} samples)", style="dim")
        lines.append(line)
    if snap.seq is None:
        lines.append(Text("seq: none in this input", style="dim"))
    else:
        lost, duplicated, runs = snap.seq
        line = Text("seq lost ")
        line.append(_count(lost), style="bold red" if lost else "bold")
        line.append(" · duplicated ")
        line.append(_count(duplicated), style="bold yellow" if duplicated else "bold")
        if runs > 1:
            line.append(f" · {runs} runs", style="dim")
        lines.append(line)
    for text in lines:
        text.no_wrap = True
        text.overflow = "ellipsis"
    return lines


class LagSeq:
    """The lag percentiles and the seq figures, laid out for the height they are given."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        rows = options.height or 3
        yield from _lag_seq_lines(self.snap, rows)[:rows]


class Bars:
    """Horizontal bars of counts, as many as fit the height they are given."""

    def __init__(self, items: Sequence[tuple[str, int]], empty: str, style: str = "cyan") -> None:
        self.items = items
        self.empty = empty
        self.style = style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.cells import cell_len
        from rich.text import Text

        width = options.max_width
        rows = options.height or len(self.items) or 1
        if not self.items:
            yield Text(self.empty, style="dim", no_wrap=True, overflow="ellipsis")
            return
        shown = list(self.items[:rows])
        rest = self.items[rows:]
        if rest:
            shown = shown[:-1]
            rest = self.items[len(shown) :]
        biggest = max(n for _, n in self.items)
        count_w = max(len(_count(n)) for _, n in shown) if shown else 1
        label_w = min(max(cell_len(printable(k)) for k, _ in shown) if shown else 1, width // 2)
        bar_w = max(1, width - label_w - count_w - 2)
        for label, n in shown:
            line = Text(no_wrap=True, overflow="ellipsis")
            name = Text(printable(label))
            name.truncate(label_w, overflow="ellipsis", pad=True)
            line.append_text(name)
            line.append(" ")
            eighths = round(n / biggest * bar_w * 8) if biggest else 0
            bar = "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")
            line.append(bar.ljust(bar_w), style=self.style)
            line.append(" " + _count(n).rjust(count_w))
            yield line
        if rest:
            others = sum(n for _, n in rest)
            yield Text(
                f"… {len(rest):,} more: {_count(others)}",
                style="dim",
                no_wrap=True,
                overflow="ellipsis",
            )


class Sparkline:
    """Messages per second, one column per second, the newest on the right."""

    def __init__(self, series: Sequence[int], style: str = "cyan") -> None:
        self.series = series
        self.style = style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.text import Text

        width = options.max_width
        values = list(self.series[-width:])
        peak = max(values, default=0)
        marks = "".join(
            " " if v <= 0 else _SPARKS[min(7, int(v / peak * 7.999))] if peak else " "
            for v in values
        )
        line = Text(" " * (width - len(marks)), no_wrap=True)  # the newest on the right
        line.append(marks, style=self.style)
        yield line


class Lines:
    """Lines of text, cropped (never wrapped) to the space they are given."""

    def __init__(self, lines: Sequence[Any], empty: str = "") -> None:
        self.lines = lines
        self.empty = empty

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.text import Text

        rows = options.height or len(self.lines) or 1
        if not self.lines and self.empty:
            yield Text(self.empty, style="dim", no_wrap=True, overflow="ellipsis")
        yield from self.lines[:rows]


def _recent_texts(snap: Snapshot) -> list[Any]:
    from rich.text import Text

    out = []
    for item in snap.recent:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(item.when + " ", style="dim")
        if item.alert:
            line.append(f"[{item.title}]", style=f"bold {item.style}")
            line.append(" ")
            body = Text(item.message)
            for start, end in item.spans:
                body.stylize(f"bold {item.style}", start, end)
            line.append_text(body)
        else:
            line.append(item.message)
        out.append(line)
    return out


def _alerts_table(snap: Snapshot) -> RenderableType:
    from rich.table import Table
    from rich.text import Text

    if not snap.alerting:
        return Text(
            "no rules: every message counts, none alerts (-k or [[consume.rules]])",
            style="dim",
        )
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_row(Text(""), Text(_span_text(snap.window), style="dim"), Text("total", style="dim"))
    for kind, name, in_window, total in snap.by_rule:
        label = Text(f"{kind} ", style="dim")
        label.append(printable(name), style="bold" if kind == "rule" else "")
        table.add_row(label, Text(_count(in_window)), Text(_count(total), style="bold"))
    return table


def render_frame(snap: Snapshot, width: int, height: int) -> RenderableType:
    """The whole screen for a terminal of ``width`` x ``height``; fewer panels when small."""
    from rich.console import Group
    from rich.layout import Layout
    from rich.panel import Panel
    from rich.text import Text

    header = _header(snap)
    if width < SMALL_SIZE[0] or height < SMALL_SIZE[1]:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"in the last {_span_text(snap.window)}: {_count(snap.in_window)} messages")
        return Group(header, line, *_lag_seq_lines(snap))
    full = width >= FULL_SIZE[0] and height >= FULL_SIZE[1]
    span = _span_text(snap.window)
    seconds = min(len(snap.series), width - 4)
    peak = max(snap.series[-seconds:], default=0) if seconds else 0
    spark = Panel(
        Sparkline(snap.series),
        title=Text(f"msg/s · last {_span_text(max(seconds, 1))} · peak {_count(peak)}/s"),
        title_align="left",
        border_style="dim",
    )
    not_template = (
        f"{_count(snap.unparsed)} messages not from the template"
        if snap.unparsed
        else f"no messages in the last {span}"
    )
    states = Panel(
        Bars(snap.states, not_template),
        title=Text(f"states · last {span}"),
        title_align="left",
        border_style="dim",
    )
    topics = Panel(
        Bars(snap.topics, not_template, style="magenta"),
        title=Text(f"topics · last {span}"),
        title_align="left",
        border_style="dim",
    )
    alerts = Panel(
        _alerts_table(snap),
        title=Text("alerts"),
        title_align="left",
        border_style="red" if snap.alerts else "dim",
    )
    lag_seq = Panel(
        LagSeq(snap),
        title=Text("lag · seq"),
        title_align="left",
        border_style="dim",
    )
    rest = height - 2 - 3  # below the header and the sparkline
    wanted = max(len(snap.by_rule) + 3 if snap.alerting else 4, 5)  # lag and seq: 3 lines
    info_h = min(wanted, max(4, rest // 3), 10)
    recent_h = max(4, min(12, rest // 3)) if full else 0
    bars_h = rest - info_h - recent_h
    root = Layout()
    bars = Layout(size=bars_h)
    bars.split_row(Layout(states), Layout(topics))
    info = Layout(size=info_h)
    info.split_row(Layout(alerts, ratio=3), Layout(lag_seq, ratio=2))
    rows = [Layout(header, size=2), Layout(spark, size=3), bars, info]
    if full:
        title = "recent alerts" if snap.alerting else "recent messages"
        empty = "no alert yet" if snap.alerting else "no message yet"
        rows.append(
            Layout(
                Panel(
                    Lines(_recent_texts(snap), empty),
                    title=Text(title),
                    title_align="left",
                    border_style="dim",
                ),
                size=recent_h,
            )
        )
    root.split_column(*rows)
    return root


def make_parser(vocabulary: Any) -> SentenceParser | None:
    """The sentence parser for the configured vocabulary, or None if it cannot be built."""
    try:
        return SentenceParser(vocabulary)
    except Exception:  # a template that makes no regex: count states and topics from JSON only
        return None


__all__ = [
    "Dashboard",
    "DashboardOptions",
    "Snapshot",
    "options_from_flags",
    "render_frame",
    "require_terminal",
]
