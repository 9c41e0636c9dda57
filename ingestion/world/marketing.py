"""Marketing: campaigns with a planted uplift on a targeted segment and a random holdout, their audiences,
promo codes, email sends/opens/clicks and daily ad spend per channel.

The uplift is applied in the simulation (``simulate``): while a campaign runs, each order line bought by a
treated audience member brings, on average, ``uplift`` extra lines bought by treated members. Holdout
members are untouched, so treated vs holdout order lines per member measure the uplift.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ingestion.world.ids import is_in, sequential_ids
from ingestion.world.random import rng_for

# A large random holdout: the uplift is a difference of two means, whose variance is smallest with equal groups;
# at 25% the short campaigns on small segments left planted uplifts outside their intervals.
HOLDOUT_SHARE = 0.4
SEGMENT_LABELS = {
    "bargain_hunter": "deal seekers",
    "loyal_premium": "vip customers",
    "occasional_gifter": "seasonal gift buyers",
}
CAMPAIGN_CHANNELS = ("email", "email", "push", "paid_social")
AD_CHANNELS = {"paid_search": 380_00, "paid_social": 260_00, "display": 140_00, "affiliate": 90_00}
OPEN_RATE = {
    "bargain_hunter": 0.42,
    "loyal_premium": 0.38,
    "occasional_gifter": 0.22,
    "window_shopper": 0.18,
    "lapsed": 0.08,
}
CLICK_RATE_OF_OPENS = 0.3


@dataclass(frozen=True)
class Campaigns:
    campaigns: pd.DataFrame  # one row per campaign, with the planted uplift
    audiences: pd.DataFrame  # campaign_id, customer_index, customer_id, group (treatment | holdout)
    treated: np.ndarray  # [campaign, customer] treated audience members

    @cached_property
    def _days(self) -> tuple[np.ndarray, np.ndarray]:
        return self.campaigns["start_day"].to_numpy(), self.campaigns["end_day"].to_numpy()

    def active(self, t: int) -> np.ndarray:
        """Campaigns running on day ``t`` (asked for every day and region of the simulation)."""
        start, end = self._days
        return np.flatnonzero((start <= t) & (t <= end))


def consented_at(profiles: pd.DataFrame, withdrawals: pd.DataFrame, channel: str, when: pd.Timestamp) -> np.ndarray:
    """Customers who had signed up and held a granted consent for ``channel`` at ``when``."""
    ok = profiles[f"{channel}_consent"].to_numpy() & (profiles["signed_up_at"] <= when).to_numpy()
    gone = withdrawals[(withdrawals["channel"] == channel) & (withdrawals["recorded_at"] <= when)]["customer_id"]
    return ok & ~is_in(profiles["customer_id"], gone)  # Arrow's hash look-up (a Python set's was per id)


def plan_campaigns(seed: int, profiles: pd.DataFrame, withdrawals: pd.DataFrame, days: pd.DatetimeIndex) -> Campaigns:
    rng = rng_for(seed, "campaigns")
    n_days = len(days)
    n = max(1, round(12 * n_days / 365))
    # One campaign per slot of the period, never two at once: a holdout member of one campaign is never
    # treated by another, so each holdout measures its own campaign. The slot holding mid-November goes
    # to the gift buyers; the others alternate between deal seekers and VIP customers.
    slot = n_days // n
    rows, members, treated = [], [], np.zeros((n, len(profiles)), dtype=bool)
    persona = profiles["persona"].to_numpy()
    gift_day = np.flatnonzero((days.month == 11) & (days.day == 15))
    gift_slot = min(n - 1, int(gift_day[0]) // slot) if len(gift_day) else -1
    for i in range(n):
        target = "occasional_gifter" if i == gift_slot else ("bargain_hunter", "loyal_premium")[i % 2]
        # Most of the slot: a longer window holds more lines per member, so the estimate is less noisy.
        length = int(min(rng.integers(25, 31), slot - 1)) if slot > 2 else max(1, slot)
        start = i * slot + int(rng.integers(0, max(1, slot - length)))
        channel = CAMPAIGN_CHANNELS[i % len(CAMPAIGN_CHANNELS)]
        if target == "occasional_gifter":  # few gift buyers consent to messages: reach them on social media
            start, channel = max(i * slot, min(int(gift_day[0]), (i + 1) * slot - length)), "paid_social"
        end = min(n_days - 1, start + length - 1)
        in_segment = persona == target
        if channel in ("email", "push"):
            in_segment &= consented_at(profiles, withdrawals, channel, days[start])
        else:
            in_segment &= (profiles["signed_up_at"] <= days[start]).to_numpy()
        idx = np.flatnonzero(in_segment)
        holdout = rng.random(len(idx)) < HOLDOUT_SHARE
        treated[i, idx[~holdout]] = True
        campaign_id = f"CMP{i + 1:03d}"
        members.append(
            pd.DataFrame(
                {
                    "campaign_id": campaign_id,
                    "customer_index": idx,
                    "assigned_group": np.where(holdout, "holdout", "treatment"),
                }
            )
        )
        rows.append(
            {
                "campaign_id": campaign_id,
                "campaign_name": (
                    f"{SEGMENT_LABELS[target].title()} {days[start].strftime('%b')} {channel.replace('_', ' ')}"
                ),
                "channel": channel,
                "target_segment": SEGMENT_LABELS[target],
                "target_persona": target,
                "start_day": start,
                "end_day": end,
                "starts_on": days[start].date(),
                "ends_on": days[end].date(),
                "uplift": float(rng.choice([0.2, 0.3, 0.4, 0.5, 0.6])),
                "holdout_share": HOLDOUT_SHARE,
                "promo_code": f"FM{i + 1:02d}{rng.choice(['SAVE', 'DEAL', 'GIFT', 'VIP'])}",
                "promo_discount_pct": float(rng.choice([0.10, 0.15, 0.20])),
                "budget_cents": int(rng.integers(50, 400)) * 10_000,
            }
        )
    audiences = pd.concat(members, ignore_index=True)
    audiences["customer_id"] = profiles["customer_id"].to_numpy()[audiences["customer_index"]]
    return Campaigns(pd.DataFrame(rows), audiences, treated)


def email_events(seed: int, campaigns: Campaigns, profiles: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Sends to the treated members of email campaigns on their first morning; opens and clicks follow."""
    rng = rng_for(seed, "email")
    frames = []
    open_rate = profiles["persona"].map(OPEN_RATE).to_numpy(dtype=float)  # per customer, looked up once
    for c in campaigns.campaigns[campaigns.campaigns["channel"] == "email"].itertuples():
        aud = campaigns.audiences[
            (campaigns.audiences["campaign_id"] == c.campaign_id)
            & (campaigns.audiences["assigned_group"] == "treatment")
        ]
        idx = aud["customer_index"].to_numpy()
        sent = days[c.start_day] + pd.Timedelta(hours=9) + pd.to_timedelta(rng.integers(0, 3600, len(idx)), "s")
        rate = open_rate[idx]
        opened = rng.random(len(idx)) < rate
        open_at = sent + pd.to_timedelta(rng.gamma(1.2, 5.0, len(idx)) * 3600, "s").round("s")
        clicked = opened & (rng.random(len(idx)) < CLICK_RATE_OF_OPENS)
        click_at = open_at + pd.to_timedelta(rng.integers(5, 600, len(idx)), "s")
        base = pd.DataFrame({"campaign_id": c.campaign_id, "customer_id": aud["customer_id"].to_numpy()})
        frames += [
            base.assign(event_type="sent", event_at=sent),
            base[opened].assign(event_type="opened", event_at=open_at[opened]),
            base[clicked].assign(event_type="clicked", event_at=click_at[clicked]),
        ]
    if not frames:
        return pd.DataFrame(columns=["event_id", "campaign_id", "customer_id", "event_type", "event_at"])
    events = (
        pd.concat(frames, ignore_index=True)
        .sort_values(["event_at", "customer_id", "event_type"], kind="stable")
        .reset_index(drop=True)
    )
    events.insert(0, "event_id", sequential_ids("EM", len(events), 9))
    return events


def ad_spend(seed: int, scale_factor: float, campaigns: Campaigns, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Daily spend, impressions and clicks per paid channel; paid-social campaigns add their budget."""
    rng = rng_for(seed, "ads")
    frames = []
    season = 1 + 0.25 * np.cos(2 * np.pi * (days.dayofyear.to_numpy() - 340) / 365.25)
    for channel, daily in AD_CHANNELS.items():
        spend = np.round(daily * scale_factor * season * rng.lognormal(0, 0.15, len(days))).astype(np.int64)
        campaign = np.full(len(days), None, dtype=object)
        for c in campaigns.campaigns[campaigns.campaigns["channel"] == channel].itertuples():
            span = np.arange(c.start_day, c.end_day + 1)
            spend[span] += int(c.budget_cents * scale_factor) // len(span)
            campaign[span] = c.campaign_id
        cpm = {"paid_search": 900, "paid_social": 650, "display": 300, "affiliate": 500}[channel]
        impressions = np.round(spend / cpm * 1000 * rng.lognormal(0, 0.1, len(days))).astype(np.int64)
        ctr = {"paid_search": 0.035, "paid_social": 0.012, "display": 0.004, "affiliate": 0.02}[channel]
        clicks = rng.binomial(impressions, ctr)
        frames.append(
            pd.DataFrame(
                {
                    "spend_date": days.date,
                    "ad_channel": channel,
                    "campaign_id": campaign,
                    "spend_cents": spend,
                    "impressions": impressions,
                    "clicks": clicks,
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values(["spend_date", "ad_channel"]).reset_index(drop=True)
