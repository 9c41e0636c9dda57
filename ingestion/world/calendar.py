"""The shopping calendar: US public holidays, retail peaks, weekday and hour-of-day shapes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

# Monday .. Sunday: weekends shop more online.
WEEKDAY_FACTOR = np.array([0.92, 0.94, 0.96, 0.98, 1.04, 1.12, 1.08])
# Hour-of-day shape of online shopping: quiet nights, lunch bump, evening peak.
HOUR_WEIGHTS = np.array(
    [
        0.6,
        0.4,
        0.25,
        0.2,
        0.2,
        0.3,
        0.6,
        1.0,
        1.4,
        1.6,
        1.7,
        1.8,
        2.0,
        1.9,
        1.7,
        1.6,
        1.7,
        1.9,
        2.2,
        2.5,
        2.6,
        2.3,
        1.7,
        1.0,
    ]
)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def holidays(years: list[int]) -> pd.DataFrame:
    """Public holidays and retail events with their planted demand factor (1 = an ordinary day)."""
    rows = []
    for y in years:
        thanksgiving = _nth_weekday(y, 11, 3, 4)
        rows += [
            (dt.date(y, 1, 1), "New Year's Day", True, 0.55),
            (_nth_weekday(y, 1, 0, 3), "Martin Luther King Jr. Day", True, 1.05),
            (_nth_weekday(y, 2, 0, 3), "Presidents' Day", True, 1.15),
            (_nth_weekday(y, 5, 0, -1), "Memorial Day", True, 1.20),
            (dt.date(y, 7, 4), "Independence Day", True, 0.70),
            (_nth_weekday(y, 9, 0, 1), "Labor Day", True, 1.15),
            (thanksgiving, "Thanksgiving Day", True, 0.80),
            (thanksgiving + dt.timedelta(days=1), "Black Friday", False, 2.60),
            (thanksgiving + dt.timedelta(days=2), "Black Friday weekend", False, 1.80),
            (thanksgiving + dt.timedelta(days=3), "Black Friday weekend", False, 1.70),
            (thanksgiving + dt.timedelta(days=4), "Cyber Monday", False, 2.30),
            (dt.date(y, 12, 24), "Christmas Eve", False, 0.60),
            (dt.date(y, 12, 25), "Christmas Day", True, 0.35),
            (dt.date(y, 12, 31), "New Year's Eve", False, 0.70),
        ]
    frame = pd.DataFrame(rows, columns=["date", "holiday_name", "is_public_holiday", "demand_factor"])
    return frame.sort_values("date").reset_index(drop=True)


def day_factors(days: pd.DatetimeIndex) -> pd.DataFrame:
    """Weekday, holiday and pre-Christmas factors per day (common to every category)."""
    hol = holidays(sorted(set(days.year))).drop_duplicates("date").set_index("date")["demand_factor"]
    holiday = pd.Series(days.date).map(hol).fillna(1.0).to_numpy()
    december_ramp = np.ones(len(days))
    in_ramp = (days.month == 12) & (days.day >= 1) & (days.day <= 21)
    december_ramp[in_ramp] = 1.0 + 0.5 * (days.day[in_ramp] / 21.0)
    return pd.DataFrame(
        {
            "date": days.date,
            "weekday_factor": WEEKDAY_FACTOR[days.weekday.to_numpy()],
            "holiday_factor": holiday,
            "december_factor": december_ramp,
        }
    )


def season_factor(doy: np.ndarray, amplitude: float, peak_doy: int) -> np.ndarray:
    return 1.0 + amplitude * np.cos(2 * np.pi * (doy - peak_doy) / 365.25)
