"""Daily weather per region: a seasonal temperature curve plus autocorrelated noise, and rain."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingestion.world.random import rng_for

# Normal temperature (°C): yearly mean and half-swing per region; rain chance in winter and summer.
REGION_CLIMATE = {
    "NE": (11.0, 12.0, 0.38, 0.30),
    "SE": (19.0, 8.0, 0.30, 0.42),
    "MW": (10.0, 14.0, 0.32, 0.32),
    "SW": (20.0, 10.0, 0.15, 0.20),
    "MT": (9.0, 13.0, 0.20, 0.25),
    "WC": (15.0, 6.0, 0.40, 0.08),
}


def generate_weather(seed: int, region_codes: list[str], days: pd.DatetimeIndex) -> pd.DataFrame:
    """One row per region and day: temperature, its seasonal normal, rain in mm."""
    rng = rng_for(seed, "weather")
    doy = days.dayofyear.to_numpy()
    frames = []
    for region in region_codes:
        mean, swing, rain_winter, rain_summer = REGION_CLIMATE[region]
        normal = mean - swing * np.cos(2 * np.pi * (doy - 15) / 365.25)
        shocks = rng.normal(0, 2.2, len(days))
        noise = np.zeros(len(days))
        for i in range(len(days)):  # AR(1): warm and cold spells last a few days
            noise[i] = (0.7 * noise[i - 1] if i else 0.0) + shocks[i]
        summer = (1 - np.cos(2 * np.pi * (doy - 15) / 365.25)) / 2
        rain_p = rain_winter + (rain_summer - rain_winter) * summer
        rainy = rng.random(len(days)) < rain_p
        rain_mm = np.where(rainy, np.round(rng.gamma(1.3, 6.0, len(days)) + 1.0, 1), 0.0)
        frames.append(
            pd.DataFrame(
                {
                    "region_code": region,
                    "date": days.date,
                    "temp_c": np.round(normal + noise, 1),
                    "temp_normal_c": np.round(normal, 1),
                    "rain_mm": rain_mm,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
