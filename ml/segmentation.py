"""Customer segmentation: RFM scores plus clustering of behaviour, with named profiles.

Two stages. KMeans on standardized behavioural features (rates over each customer's active window, so a
customer who signed up in October is not a low-frequency customer; conversion from browsing to buying,
basket size, price level, gift-season share, discount use, channel, how long the customer has been silent)
gives the starting segments; a latent-class mixture on the underlying counts (``ml.latent_class``) refines
them, weighing each customer by how much they did. Segments are named from their profile (value, silence,
browsing, season, discounts) by fixed rules, so the names read the same on every run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ml.latent_class import LatentClassMixture, count_data

SEED = 42
N_SEGMENTS = 5
# Silhouette on a fixed sample: the full pairwise distance matrix of every customer is too costly.
SILHOUETTE_SAMPLE = 4000
FEATURES = [
    "order_rate",
    "session_rate",
    "conversion",
    "lines_per_order",
    "price_level",
    "gift_season_share",
    "discount_share",
    "web_share",
    "app_session_share",
    "idle_share",
]


@dataclass
class SegmentationModel:
    """The fitted stages: scaler + KMeans (initial segments) and the latent-class mixture (final ones)."""

    initial: Pipeline
    mixture: LatentClassMixture

    def predict(self, customers: pd.DataFrame) -> np.ndarray:
        return self.mixture.predict(count_data(customers))


@dataclass
class Segmentation:
    model: SegmentationModel
    segments: pd.DataFrame  # customer_id, segment_id, segment_name, rfm scores
    profiles: pd.DataFrame  # one row per segment
    metrics: dict[str, float]
    features: list[str]


def behavioural_features(customers: pd.DataFrame, period_days: int = 366) -> pd.DataFrame:
    """The clustering inputs from :func:`ml.features.customer_behaviour`'s frame (indexed by customer)."""
    active = np.minimum(customers["tenure_days"], period_days).clip(lower=14)
    silent = np.minimum(customers["session_recency_days"], customers["recency_days"])
    return pd.DataFrame(
        {
            "order_rate": np.log1p(customers["orders"] / active * 365),
            "session_rate": np.log1p(customers["sessions"] / active * 365),
            "conversion": np.log((customers["orders"] + 0.5) / (customers["sessions"] + 1)),
            "lines_per_order": customers["lines_per_order"],
            "price_level": customers["price_level"],
            "gift_season_share": customers["gift_season_share"],
            "discount_share": customers["discount_share"],
            "web_share": customers["web_share"],
            "app_session_share": customers["app_session_share"],
            "idle_share": (silent / active).clip(upper=1.0),
        },
        index=customers.index,
    )[FEATURES]


def train_customer_segmentation(customers: pd.DataFrame, n_segments: int = N_SEGMENTS) -> Segmentation:
    """Fit the segmentation on :func:`ml.features.customer_behaviour`'s frame.

    Returns the fitted model, one row per customer (segment, RFM scores), the segment profiles (size, value,
    favourite categories, channel, name) and metrics (silhouette of the final segments on the standardized
    features, KMeans inertia, EM iterations, sizes).
    """
    features = behavioural_features(customers)
    initial = Pipeline(
        [("scale", StandardScaler()), ("cluster", KMeans(n_clusters=n_segments, n_init=10, random_state=SEED))]
    )
    initial_labels = initial.fit_predict(features)
    counts = count_data(customers)
    mixture = LatentClassMixture(n_segments).fit(counts, initial_labels)
    labels = mixture.predict(counts)
    model = SegmentationModel(initial, mixture)
    scaled = initial.named_steps["scale"].transform(features)
    sample = np.random.default_rng(SEED).choice(len(features), min(SILHOUETTE_SAMPLE, len(features)), replace=False)
    silhouette = float(silhouette_score(scaled[sample], labels[sample])) if len(set(labels[sample])) > 1 else 0.0
    profiles = segment_profiles(customers, labels)
    names = profiles.set_index("segment_id")["segment_name"]
    segments = pd.DataFrame(
        {
            "customer_id": customers.index,
            "segment_id": labels.astype(int),
            "segment_name": names.reindex(labels).to_numpy(),
            "recency_score": customers["recency_score"].to_numpy(),
            "frequency_score": customers["frequency_score"].to_numpy(),
            "monetary_score": customers["monetary_score"].to_numpy(),
        }
    )
    metrics = {
        "silhouette": round(silhouette, 4),
        "kmeans_inertia": round(float(initial.named_steps["cluster"].inertia_), 1),
        "em_iterations": float(mixture.n_iter),
        "log_likelihood_per_customer": round(mixture.log_likelihood / len(features), 4),
        "segments": float(n_segments),
        "customers": float(len(features)),
        "smallest_segment_share": round(float(np.bincount(labels, minlength=n_segments).min() / len(labels)), 4),
    }
    return Segmentation(model, segments, profiles, metrics, list(FEATURES))


def segment_profiles(customers: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Size, value, rhythm, favourite categories and channel per segment, and a human-readable name."""
    frame = customers.assign(segment_id=labels, idle_share=behavioural_features(customers)["idle_share"])
    cat_columns = [c for c in customers.columns if c.startswith("cat_")]
    grouped = frame.groupby("segment_id")
    profiles = pd.DataFrame(
        {
            "customers": grouped.size(),
            "share": grouped.size() / len(frame),
            "avg_orders": grouped["orders"].mean(),
            "avg_net_revenue": grouped["net_revenue"].mean(),
            "total_net_revenue": grouped["net_revenue"].sum(),
            "avg_order_value": grouped["average_order_value"].mean(),
            "avg_sessions": grouped["sessions"].mean(),
            "avg_recency_days": grouped["recency_days"].mean(),
            "avg_idle_share": grouped["idle_share"].mean(),
            "gift_season_share": grouped["gift_season_share"].mean(),
            "discount_share": grouped["discount_share"].mean(),
            "price_level": grouped["price_level"].mean(),
        }
    )
    # Favourite categories: the highest share of lines relative to the whole customer base (lift).
    mix = grouped[cat_columns].mean()
    lift = mix / customers[cat_columns].mean().replace(0, np.nan)
    profiles["favourite_categories"] = lift.apply(
        lambda row: ",".join(c.removeprefix("cat_") for c in row.sort_values(ascending=False).index[:3]), axis=1
    )
    channels = grouped[["web_share", "app_share", "marketplace_share"]].mean()
    profiles["main_channel"] = channels.idxmax(axis=1).str.removesuffix("_share")
    profiles["segment_name"] = _names(profiles)
    return profiles.round(4).reset_index()


def _names(profiles: pd.DataFrame) -> pd.Series:
    """Fixed rules from the profile: the most valuable segment is 'high-value regulars', the most silent
    'lapsing', ... ; each rule takes the best remaining segment so names stay unique."""
    remaining = set(profiles.index)
    names: dict[int, str] = {}

    def take(name: str, score: pd.Series) -> None:
        if remaining:
            best = score[list(remaining)].idxmax()
            names[best] = name
            remaining.discard(best)

    take("high-value regulars", profiles["avg_net_revenue"])
    take("lapsing customers", profiles["avg_idle_share"])
    take("browsers who rarely buy", profiles["avg_sessions"] / profiles["avg_orders"].clip(lower=0.1))
    take("seasonal gift buyers", profiles["gift_season_share"])
    take("deal seekers", profiles["discount_share"] - profiles["price_level"])
    for i, segment in enumerate(sorted(remaining)):
        names[segment] = f"other segment {i + 1}"
    return pd.Series(names).reindex(profiles.index)
