"""Clock port: all time-dependent rules read time from here so tests can move it."""
from __future__ import annotations

import calendar
import datetime as dt
import time
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    """Real wall clock (UTC epoch seconds)."""

    def time(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    def now(self) -> dt.datetime:
        """Aware datetime in UTC."""
        return dt.datetime.fromtimestamp(self.time(), tz=dt.timezone.utc)

    def local(self) -> dt.datetime:
        """Aware datetime in Asia/Shanghai, the zone of 'a day', 'midnight' and 'a year'."""
        return self.now().astimezone(SHANGHAI)

    def today(self) -> dt.date:
        """The calendar date in Asia/Shanghai."""
        return self.local().date()


class FrozenClock(Clock):
    """A clock that only moves when told to (tests, simulations)."""

    def __init__(self, start: float | dt.datetime | None = None):
        if start is None:
            start = time.time()
        if isinstance(start, dt.datetime):
            start = start.timestamp()
        self._t = float(start)

    def time(self) -> float:
        return self._t

    def set(self, when: float | dt.datetime) -> None:
        """Jump to an absolute time."""
        self._t = when.timestamp() if isinstance(when, dt.datetime) else float(when)

    def advance(self, seconds: float = 0, **delta) -> None:
        """Move forward by seconds and/or timedelta keyword arguments."""
        self._t += seconds + dt.timedelta(**delta).total_seconds()


def start_of_day_epoch(day: dt.date) -> float:
    """Epoch seconds of the midnight that starts `day` in Asia/Shanghai."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI).timestamp()


def end_of_day_epoch(day: dt.date) -> float:
    """Epoch seconds of the midnight that ends `day` in Asia/Shanghai (a validity end is inclusive).
    Defined for every date: the last one a date can hold (9999-12-31, "for ever" in some filings) ends at
    its last microsecond instead of overflowing into a year 10000 (issue 10 finding 8)."""
    if day == dt.date.max:
        return dt.datetime.combine(day, dt.time.max, tzinfo=SHANGHAI).timestamp()
    return start_of_day_epoch(day + dt.timedelta(days=1))


def month_before(day: dt.date) -> dt.date:
    """The same day one calendar month earlier (clamped to that month's last day, and to the first date)."""
    if (day.year, day.month) == (1, 1):
        return dt.date.min
    y, m = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return dt.date(y, m, min(day.day, calendar.monthrange(y, m)[1]))


def next_midnight_epoch(t: float) -> float:
    """Epoch seconds of the next Asia/Shanghai midnight after instant t."""
    local = dt.datetime.fromtimestamp(t, tz=SHANGHAI).date()
    return end_of_day_epoch(local)
