"""Dates and times written in plain English, for flux.util.parse_datetime:
the phrases users give to options like ``flux jobs --since`` and
``flux batch --begin-time``.

parse(text, now) understands, in any order and combination:

  days      today, tomorrow, yesterday; a weekday ("fri", "friday": the
            next one, today excluded); "last wed" (the latest before
            today), "this wed" and "next wed" (in this or next week, weeks
            starting on Monday); "next day", "last week" (1 or 7 days
            away), "next month", "last year" (its first day), "next hour"
            (its start); "Jun 10, 2021", "10 june", "june 10th",
            "6/10/2021", "6/10/21", "6/10", "2021/6/10", "2021-06-10"
            (without a year: the next such date, today counts)
  times     "8am", "8 pm", "8:30pm", "08:00", "17:45:30"; noon, midnight,
            morning (6:00), lunch, afternoon (13:00), eod (17:00), evening
            (18:00), night or tonight (21:00)
  offsets   "in 10 min", "10 minutes ago", "a year ago", "2 days from now";
            units s/sec/second, m/min/minute, h/hr/hour, d/day, w/wk/week,
            mo/month, y/yr/year (and plurals)

These follow the parsedatetime module flux-core uses (with its StartHour
0): today, tomorrow, yesterday and a weekday after last/this/next, or a
next/last day, week, month or year, mean midnight unless a time is given;
any other date keeps NOW's time of day, as does an offset. Offsets apply
last. Anything else raises ValueError.
"""

import calendar
import re
from datetime import date, datetime, time, timedelta

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july",
    "august", "september", "october", "november", "december",
)
_UNIT_WORDS = {
    "seconds": ("s", "sec", "secs", "second"),
    "minutes": ("m", "min", "mins", "minute"),
    "hours": ("h", "hr", "hrs", "hour"),
    "days": ("d", "day"),
    "weeks": ("w", "wk", "wks", "week"),
    "months": ("mo", "mos", "month"),
    "years": ("y", "yr", "yrs", "year"),
}
_UNITS = {word: unit for unit, words in _UNIT_WORDS.items() for word in words + (unit,)}
_DAY_WORDS = {"today": 0, "tomorrow": 1, "yesterday": -1}
_CLOCK_WORDS = {
    "midnight": time(0),
    "morning": time(6),
    "noon": time(12),
    "lunch": time(12),
    "afternoon": time(13),
    "eod": time(17),
    "evening": time(18),
    "night": time(21),
    "tonight": time(21),
}
_DIRECTIONS = {"last": -1, "next": 1, "this": 0}
_FILLER = {"at", "on", "the", "of", "in", "from", "now", "and"}

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_SLASH_DATE = re.compile(r"(\d{1,4})/(\d{1,2})(?:/(\d{2}|\d{4}))?")
_CLOCK = re.compile(r"(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?(am|pm|a|p)?")
_AMOUNT = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([a-z]*)")
_DAY_OF_MONTH = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?")


def _name_index(word, names):
    """The index of the name WORD is (or abbreviates, 3+ letters), else None."""
    if len(word) >= 3:
        for index, name in enumerate(names):
            if name.startswith(word):
                return index
    return None


def _add_months(when, months):
    """WHEN moved by a whole number of MONTHS, the day clipped to fit."""
    if months != int(months):
        raise ValueError("months and years must be whole numbers")
    year, month = divmod(when.year * 12 + when.month - 1 + int(months), 12)
    month += 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def _shift(when, amount, unit):
    if unit == "months":
        return _add_months(when, amount)
    if unit == "years":
        return _add_months(when, amount * 12)
    return when + timedelta(**{unit: amount})


class _Parser:
    def __init__(self, text, now):
        self.words = text.lower().replace(",", " ").split()
        self.pos = 0
        self.now = now
        self.day = None  # a date, if the text names one
        self.clock = None  # a time, if the text names one
        self.at_midnight = False  # self.day is one meant from its start
        self.offsets = []  # (amount, unit)

    def peek(self, ahead=0):
        index = self.pos + ahead
        return self.words[index] if index < len(self.words) else None

    def take(self):
        word = self.peek()
        self.pos += 1
        return word

    def set_day(self, day):
        if self.day is not None:
            raise ValueError("more than one date")
        self.day = day

    def set_clock(self, clock):
        if self.clock is not None:
            raise ValueError("more than one time of day")
        self.clock = clock

    def add_offset(self, amount, unit):
        if self.peek() == "ago":
            self.take()
            amount = -amount
        self.offsets.append((amount, unit))

    def result(self):
        if not self.words:
            raise ValueError("empty date")
        while self.peek() is not None:
            self.word(self.take())
        if self.clock is not None:
            clock = self.clock
        elif self.at_midnight:
            clock = time(0)
        else:
            clock = self.now.time()
        when = datetime.combine(self.day or self.now.date(), clock)
        for amount, unit in self.offsets:
            when = _shift(when, amount, unit)
        return when

    def word(self, word):
        if word in _FILLER:
            return
        if word in _DAY_WORDS:
            self.set_day(self.now.date() + timedelta(days=_DAY_WORDS[word]))
            self.at_midnight = True
        elif word in _CLOCK_WORDS:
            self.set_clock(_CLOCK_WORDS[word])
        elif word in _DIRECTIONS:
            self.direction(_DIRECTIONS[word])
        elif word in ("a", "an") and self.peek() in _UNITS:
            self.add_offset(1, _UNITS[self.take()])
        elif _name_index(word, _WEEKDAYS) is not None:
            self.weekday(_name_index(word, _WEEKDAYS), None)
        elif _name_index(word, _MONTHS) is not None:
            self.month_first(_name_index(word, _MONTHS) + 1)
        elif word[:1].isdigit() or word[:1] == ".":
            self.number(word)
        else:
            raise ValueError(f"unknown word {word!r}")

    def direction(self, sign):
        """"last"/"next"/"this" before a weekday, unit or time of day."""
        word = self.take() or ""
        weekday = _name_index(word, _WEEKDAYS)
        today = self.now.date()
        if weekday is not None:
            self.weekday(weekday, sign)
            self.at_midnight = True
        elif word in _CLOCK_WORDS and sign == 0:
            self.set_clock(_CLOCK_WORDS[word])
        elif word in _UNITS and sign != 0:
            unit = _UNITS[word]
            if unit in ("days", "weeks"):
                self.set_day(today + timedelta(**{unit: sign}))
            elif unit == "months":
                self.set_day(_add_months(today.replace(day=1), sign))
            elif unit == "years":
                self.set_day(date(today.year + sign, 1, 1))
            elif unit == "hours":
                hour = self.now.replace(minute=0, second=0, microsecond=0)
                hour += timedelta(hours=sign)
                self.set_day(hour.date())
                self.set_clock(hour.time())
            else:
                raise ValueError(f"unexpected {word!r} after last/next")
            self.at_midnight = True
        else:
            raise ValueError(f"unexpected {word!r} after last/this/next")

    def weekday(self, weekday, sign):
        """WEEKDAY's date: the next one, today excluded (sign None), the
        latest before today (-1), or the one in this (0) or next (1) week."""
        today = self.now.date()
        if sign is None:
            days = (weekday - today.weekday()) % 7 or 7
        elif sign < 0:
            days = -((today.weekday() - weekday) % 7 or 7)
        else:
            days = 7 * sign + weekday - today.weekday()
        self.set_day(today + timedelta(days=days))

    def month_day(self, month, day):
        """A month and day with maybe a year next; without it, the next
        such date (today counts)."""
        if re.fullmatch(r"\d{4}", self.peek() or ""):
            self.set_day(date(int(self.take()), month, day))
        else:
            self.set_day(self.next_date(month, day))

    def next_date(self, month, day):
        when = date(self.now.year, month, day)
        if when < self.now.date():
            when = date(self.now.year + 1, month, day)
        return when

    def month_first(self, month):
        """"june", "june 10", "jun 10th 2021"."""
        day = 1
        match = _DAY_OF_MONTH.fullmatch(self.peek() or "")
        if match and not self.is_clock_ahead(1):
            self.take()
            day = int(match.group(1))
        self.month_day(month, day)

    def is_clock_ahead(self, ahead):
        """Whether the word AHEAD places on (0: the next unread) is am/pm."""
        return self.peek(ahead) in ("am", "pm", "a", "p")

    def number(self, word):
        match = _ISO_DATE.fullmatch(word)
        if match:
            self.set_day(date(*map(int, match.groups())))
            return
        match = _SLASH_DATE.fullmatch(word)
        if match:
            self.slash_date(*match.groups())
            return
        match = _CLOCK.fullmatch(word)
        if match and (match.group(2) or match.group(4) or self.is_clock_ahead(0)):
            hour, minute, second, half = match.groups()
            if half is None and self.is_clock_ahead(0):
                half = self.take()
            self.clock_time(int(hour), int(minute or 0), int(second or 0), half)
            return
        match = _AMOUNT.fullmatch(word)
        if match:
            amount, unit = float(match.group(1)), match.group(2)
            if not unit and self.peek() in _UNITS:
                unit = self.take()
            if unit in _UNITS:
                self.add_offset(amount, _UNITS[unit])
                return
        match = _DAY_OF_MONTH.fullmatch(word)
        if match and _name_index(self.peek() or "", _MONTHS) is not None:
            self.month_day(_name_index(self.take(), _MONTHS) + 1, int(match.group(1)))
            return
        raise ValueError(f"cannot read {word!r}")

    def slash_date(self, first, second, third):
        if len(first) == 4:  # Y/M/D
            if third is None:
                raise ValueError("year/month needs a day")
            year, month, day = int(first), int(second), int(third)
        else:  # M/D[/Y]
            month, day = int(first), int(second)
            if third is None:
                self.set_day(self.next_date(month, day))
                return
            year = int(third) + (2000 if len(third) == 2 else 0)
        self.set_day(date(year, month, day))

    def clock_time(self, hour, minute, second, half):
        if half:
            if not 1 <= hour <= 12:
                raise ValueError("hour out of range for am/pm")
            hour = hour % 12 + (12 if half.startswith("p") else 0)
        self.set_clock(time(hour, minute, second))


def parse(text, now):
    """The naive local datetime TEXT names, relative to naive datetime NOW;
    ValueError if TEXT is not understood."""
    return _Parser(text, now).result()
