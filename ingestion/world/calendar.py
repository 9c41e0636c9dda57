"""The shopping calendar: relative demand per day (weekday, season, holiday peaks) and per hour."""

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


def daily_demand_weights(start_date: dt.date, end_date: dt.date) -> pd.Series:
    """Relative order intensity per calendar day, indexed by date (mean about 1)."""
    days = pd.date_range(start_date, end_date, freq="D")
    doy = days.dayofyear.to_numpy()
    season = 1.0 + 0.12 * np.cos(2 * np.pi * (doy - 350) / 365.25)
    weekday = WEEKDAY_FACTOR[days.weekday.to_numpy()]
    holiday = np.ones(len(days))
    for year in sorted(set(days.year)):
        thanksgiving = _nth_weekday(year, 11, weekday=3, n=4)
        black_friday_week = (days >= pd.Timestamp(thanksgiving)) & (
            days <= pd.Timestamp(thanksgiving) + pd.Timedelta(days=4)
        )
        holiday[black_friday_week] *= 2.2
        pre_christmas = (days >= pd.Timestamp(year, 12, 5)) & (days <= pd.Timestamp(year, 12, 21))
        holiday[pre_christmas] *= 1.45
        after_christmas = (days >= pd.Timestamp(year, 12, 24)) & (days <= pd.Timestamp(year, 12, 26))
        holiday[after_christmas] *= 0.6
    return pd.Series(season * weekday * holiday, index=days.date, name="weight")


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))
