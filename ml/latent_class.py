"""A latent-class mixture for customer behaviour counts, fitted by EM.

KMeans on standardized features treats a customer with one order like one with fifty: averages such as
"share of orders on the web" are as trustworthy for both, and customers without orders sit at arbitrary
zeros. The mixture instead models each customer's counts with the likelihood they follow given the
segment, so a customer with few events weighs little on the per-order parameters and a customer without
orders is placed by what they did do (browsing, consents):

- orders ~ Poisson(exposure × order rate), browse-only sessions ~ Poisson(exposure × browse rate), where
  exposure is the share of the year the customer was signed up;
- lines beyond one per order ~ Poisson(orders × extra lines per order);
- orders per channel ~ Multinomial(orders, channel mix); gift-season orders ~ Binomial(orders, share);
- lines per category ~ Multinomial(lines, category mix); discounted and premium (above the category median
  price) lines ~ Binomial(lines, share);
- how long the customer has been silent, in three bands ~ Categorical; email and push consent ~ Bernoulli.

Deterministic: EM starts from a given labelling (the KMeans segments) and stops when the log-likelihood
gains less than ``tol`` per customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import logsumexp

IDLE_BANDS = (0.3, 0.6)
_EPS = 1e-6


@dataclass
class CountData:
    """Per-customer counts the mixture models (arrays aligned on customers)."""

    exposure: np.ndarray
    orders: np.ndarray
    browse_sessions: np.ndarray
    extra_lines: np.ndarray
    lines: np.ndarray
    channel_orders: np.ndarray  # [customer, web/app/marketplace]
    gift_orders: np.ndarray
    category_lines: np.ndarray  # [customer, category]
    discounted_lines: np.ndarray
    premium_lines: np.ndarray
    idle_band: np.ndarray  # [customer, band] one-hot
    email_consent: np.ndarray
    push_consent: np.ndarray


def count_data(customers: pd.DataFrame, period_days: int = 366) -> CountData:
    """Counts from :func:`ml.features.customer_behaviour`'s frame (shares times their totals)."""
    active_days = np.minimum(customers["tenure_days"], period_days).clip(lower=14).to_numpy(float)
    orders = customers["orders"].to_numpy(float)
    lines = customers["lines"].to_numpy(float)
    channels = customers[["web_share", "app_share", "marketplace_share"]].to_numpy(float) * orders[:, None]
    categories = customers[[c for c in customers.columns if c.startswith("cat_")]].to_numpy(float) * lines[:, None]
    silent = np.minimum(customers["session_recency_days"], customers["recency_days"]).to_numpy(float)
    idle = np.clip(silent / active_days, 0, 1)
    return CountData(
        exposure=active_days / 365.0,
        orders=orders,
        browse_sessions=customers["browse_sessions"].to_numpy(float),
        extra_lines=np.maximum(lines - orders, 0),
        lines=lines,
        channel_orders=channels.round(),
        gift_orders=(customers["gift_season_share"].to_numpy(float) * orders).round(),
        category_lines=categories.round(),
        discounted_lines=customers["discounted_lines"].to_numpy(float),
        premium_lines=customers["premium_lines"].to_numpy(float),
        idle_band=np.eye(len(IDLE_BANDS) + 1)[np.digitize(idle, IDLE_BANDS)],
        email_consent=customers["email_consent"].to_numpy(float),
        push_consent=customers["push_consent"].to_numpy(float),
    )


@dataclass
class LatentClassMixture:
    """Segment parameters (one entry per segment) after :meth:`fit`."""

    n_segments: int
    max_iter: int = 200
    tol: float = 1e-6
    params: dict[str, np.ndarray] = field(default_factory=dict)
    n_iter: int = 0
    log_likelihood: float = float("nan")

    def fit(self, data: CountData, init_labels: np.ndarray) -> LatentClassMixture:
        """EM from the hard assignment ``init_labels``."""
        resp = np.eye(self.n_segments)[init_labels]
        previous = -np.inf
        for iteration in range(1, self.max_iter + 1):
            self.params = _m_step(data, resp)
            joint = _log_joint(data, self.params)
            total = float(logsumexp(joint, axis=1).sum())
            resp = np.exp(joint - logsumexp(joint, axis=1, keepdims=True))
            self.n_iter, self.log_likelihood = iteration, total
            if total - previous < self.tol * len(resp):
                break
            previous = total
        return self

    def predict_proba(self, data: CountData) -> np.ndarray:
        joint = _log_joint(data, self.params)
        return np.exp(joint - logsumexp(joint, axis=1, keepdims=True))

    def predict(self, data: CountData) -> np.ndarray:
        return self.predict_proba(data).argmax(axis=1)


def _binomial_share(resp: np.ndarray, hits: np.ndarray, trials: np.ndarray) -> np.ndarray:
    # Half a success and half a failure of prior: a segment without trials gets 0.5, not 0/0.
    return np.clip(((resp * hits[:, None]).sum(0) + 0.5) / ((resp * trials[:, None]).sum(0) + 1), _EPS, 1 - _EPS)


def _mix(resp: np.ndarray, counts: np.ndarray) -> np.ndarray:
    totals = resp.T @ counts + 0.5
    return totals / totals.sum(axis=1, keepdims=True)


def _m_step(d: CountData, resp: np.ndarray) -> dict[str, np.ndarray]:
    weight = resp.sum(0)
    exposure = (resp * d.exposure[:, None]).sum(0)
    return {
        "weight": np.maximum(weight / weight.sum(), _EPS),
        "order_rate": (resp * d.orders[:, None]).sum(0) / exposure + _EPS,
        "browse_rate": (resp * d.browse_sessions[:, None]).sum(0) / exposure + _EPS,
        "extra_lines": (resp * d.extra_lines[:, None]).sum(0) / np.maximum((resp * d.orders[:, None]).sum(0), _EPS)
        + _EPS,
        "channel": _mix(resp, d.channel_orders),
        "gift": _binomial_share(resp, d.gift_orders, d.orders),
        "category": _mix(resp, d.category_lines),
        "discounted": _binomial_share(resp, d.discounted_lines, d.lines),
        "premium": _binomial_share(resp, d.premium_lines, d.lines),
        "idle": _mix(resp, d.idle_band),
        "email": _binomial_share(resp, d.email_consent, np.ones_like(d.email_consent)),
        "push": _binomial_share(resp, d.push_consent, np.ones_like(d.push_consent)),
    }


def _log_joint(d: CountData, p: dict[str, np.ndarray]) -> np.ndarray:
    """log P(segment) + log P(counts | segment), up to terms that do not depend on the segment."""
    ll = np.log(p["weight"])[None, :]
    ll = ll + d.orders[:, None] * np.log(p["order_rate"]) - d.exposure[:, None] * p["order_rate"]
    ll = ll + d.browse_sessions[:, None] * np.log(p["browse_rate"]) - d.exposure[:, None] * p["browse_rate"]
    ll = ll + d.extra_lines[:, None] * np.log(p["extra_lines"]) - d.orders[:, None] * p["extra_lines"]
    ll = ll + d.channel_orders @ np.log(p["channel"]).T + d.category_lines @ np.log(p["category"]).T
    for hits, trials, share in (
        (d.gift_orders, d.orders, "gift"),
        (d.discounted_lines, d.lines, "discounted"),
        (d.premium_lines, d.lines, "premium"),
        (d.email_consent, np.ones_like(d.email_consent), "email"),
        (d.push_consent, np.ones_like(d.push_consent), "push"),
    ):
        ll = ll + hits[:, None] * np.log(p[share]) + (trials - hits)[:, None] * np.log(1 - p[share])
    return ll + d.idle_band @ np.log(p["idle"]).T
