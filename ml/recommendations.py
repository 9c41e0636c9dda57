"""Product recommendations: top-10 products per customer from purchase and view behaviour.

The model is cluster-based collaborative filtering with each customer's own brand and repeat purchases on
top. Each customer gets a taste profile: the share of their purchased lines per (category, price tier) cell,
shrunk toward the whole shop's mix and taken as a log lift over it, plus how much they buy and browse (log
lines, log product views). KMeans (scikit-learn) groups the profiles; a group's purchase distribution over
products, smoothed toward the shop's, is multiplied by the customer's brand lift (their share of lines per
brand, shrunk toward the shop's, over the shop's share). Categories whose lines often re-buy a product the same
customer bought before (learnt from the training window: groceries, beauty) are repeatable: a bought product
there scores at least its repeat probability; elsewhere a bought product is left out (a sofa is bought once).
Customers without history get the shop's best-sellers.

Why groups and not each customer's own history alone: a customer's dozen lines are too few to estimate their
taste for categories and price levels (scoring on the individual profile did worse than popularity), while the
group's thousands of lines carry the shared taste that personas plant; the few lines do show favourite brands
and everyday products.

Evaluation (:func:`evaluate_recommendations`): the model is fit on everything before the last
:data:`HOLDOUT_DAYS` days and scored on what customers with earlier history bought in them, by precision@10
and recall@10, against the popularity baseline (the training window's best-sellers, with the same candidates:
bought items left out outside the repeatable categories). The production model is then refit on every day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd
import scipy.sparse as sp

if TYPE_CHECKING:
    from sklearn.cluster import KMeans

SEED = 42
TOP_K = 10
N_CLUSTERS = 5
HOLDOUT_DAYS = 28
SCORING_CHUNK = 2048
PRICE_TIERS = 3
# Pseudo-counts: a customer's profile is shrunk toward the shop's mix by this many lines, a group's product
# distribution toward the shop's by this many lines (spread by popularity).
PROFILE_PRIOR_LINES = 2.0
GROUP_PRIOR_LINES = 5.0
# A customer's brand shares are shrunk toward the shop's by this many lines; the brand lift multiplies the
# group's score with an exponent chosen on earlier weeks (BRAND_WEIGHT when there is nothing to choose on).
BRAND_PRIOR_LINES = 3.0
BRAND_WEIGHT = 1.0
BRAND_WEIGHTS = (0.0, 0.5, 1.0)  # the candidates choose_brand_weight picks from
# A category whose lines repeat an earlier purchase of the same customer at least this often (in the training
# window), and REPEATABLE_OVER_MEDIAN times the median category's share, is repeatable: bought products stay
# candidates there. The ratio keeps chance repeats out: in a small shop (a few products per category) a heavy
# buyer repeats items of every category by chance.
REPEATABLE_MIN_SHARE = 0.05
REPEATABLE_OVER_MEDIAN = 3.0
# Activity features are weighted so that heavy and light shoppers separate as much as their tastes do.
ACTIVITY_WEIGHT = 2.0
FEATURES = ["category x price tier purchase lift", "log purchased lines", "log product views"]
# Marts the recommender reads: the Dagster asset declares them as dependencies.
RECOMMENDATION_MARTS = ("fct_order_lines", "fct_web_events", "dim_product", "fct_customer_lifetime")


@dataclass(frozen=True)
class Interactions:
    """What the recommender learns from: purchased lines and product views per customer, with dates."""

    purchases: pd.DataFrame  # customer_id, product_id, event_date
    views: pd.DataFrame  # customer_id, product_id, event_date
    products: pd.DataFrame  # product_id, category_id, brand, list_price (every product, sorted by product_id)
    customers: pd.Index  # every customer to recommend for (fct_customer_lifetime), sorted


def read_interactions(con: duckdb.DuckDBPyConnection) -> Interactions:
    """Purchases (order lines, cancelled ones left out: the customer changed their mind) and product views of
    known customers, from the marts."""
    purchases = con.execute(
        "select customer_id, product_id, order_date as event_date from marts.fct_order_lines "
        "where not is_cancelled and customer_id is not null"
    ).df()
    views = con.execute(
        "select customer_id, product_id, event_date from marts.fct_web_events "
        "where event_type = 'product_view' and customer_id is not null and product_id is not null"
    ).df()
    products = con.execute(
        "select product_id, category_id, brand, list_price::double as list_price from marts.dim_product "
        "order by product_id"
    ).df()
    customers = con.execute("select customer_id from marts.fct_customer_lifetime order by customer_id").df()
    return Interactions(purchases, views, products, pd.Index(customers["customer_id"]))


@dataclass
class RecommenderModel:
    """The fitted recommender: product ids, the KMeans on taste profiles and each group's product scores."""

    product_ids: np.ndarray
    cell_of_product: np.ndarray  # (category, price tier) cell index of each product
    shop_cell_share: np.ndarray
    clusters: KMeans
    group_scores: np.ndarray  # [group, product] probability; the last row is the whole shop (cold start)
    brand_of_product: np.ndarray  # brand index of each product
    shop_brand_share: np.ndarray  # share of the shop's lines per brand
    repeat_share: np.ndarray  # [product] share of its category's lines that repeat a customer's earlier purchase
    brand_weight: float = BRAND_WEIGHT  # exponent of the brand lift (chosen on earlier weeks)

    @property
    def repeatable(self) -> np.ndarray:
        """Per product: is its category repeatable (bought products stay candidates)?"""
        bar = max(REPEATABLE_MIN_SHARE, REPEATABLE_OVER_MEDIAN * float(np.median(np.unique(self.repeat_share))))
        return self.repeat_share >= bar

    def scores(self, bought: sp.csr_matrix, viewed: sp.csr_matrix) -> np.ndarray:
        """Score of every product for every row of ``bought``/``viewed`` (customer x product counts, in
        ``product_ids`` order): the log of the group's probability times the customer's brand lift; a bought
        product of a repeatable category scores at least its repeat probability, one of any other category
        -inf. Rows without history get the shop's scores."""
        lines = np.asarray(bought.sum(axis=1)).ravel()
        views = np.asarray(viewed.sum(axis=1)).ravel()
        cells = np.asarray((bought @ _one_hot(self.cell_of_product, len(self.shop_cell_share))).todense())
        group = np.full(bought.shape[0], len(self.group_scores) - 1)
        active = (lines + views) > 0
        if active.any():
            features = profile_features(cells[active], lines[active], views[active], self.shop_cell_share)
            group[active] = self.clusters.predict(features)
        out = np.log(self.group_scores[group])
        brands = len(self.shop_brand_share)
        brand_lines = np.asarray((bought @ _one_hot(self.brand_of_product, brands)).todense())
        share = (brand_lines + BRAND_PRIOR_LINES * self.shop_brand_share) / (lines[:, None] + BRAND_PRIOR_LINES)
        out += self.brand_weight * np.log(share / self.shop_brand_share)[:, self.brand_of_product]
        rows, cols = bought.nonzero()
        again = self.repeatable[cols]
        counts = np.asarray(bought[rows, cols]).ravel()
        # The chance that the next line re-buys this product: the category's repeat share x the product's
        # share of the customer's lines.
        repeat = np.log(self.repeat_share[cols] * counts / np.maximum(lines[rows], 1))
        out[rows, cols] = np.where(again, np.logaddexp(out[rows, cols], repeat), -np.inf)
        return out


def profile_features(
    cells: np.ndarray, lines: np.ndarray, views: np.ndarray, shop_cell_share: np.ndarray
) -> np.ndarray:
    """Taste profile rows from per-customer line counts per cell, total lines and total views."""
    share = (cells + PROFILE_PRIOR_LINES * shop_cell_share) / (lines[:, None] + PROFILE_PRIOR_LINES)
    return np.hstack(
        [
            np.log(share / shop_cell_share),
            ACTIVITY_WEIGHT * np.log1p(lines)[:, None],
            ACTIVITY_WEIGHT * np.log1p(views)[:, None],
        ]
    )


def _one_hot(codes: np.ndarray, n: int) -> sp.csr_matrix:
    return sp.csr_matrix((np.ones(len(codes)), (np.arange(len(codes)), codes)), shape=(len(codes), n))


def _matrix(frame: pd.DataFrame, customers: pd.Index, products: pd.Index) -> sp.csr_matrix:
    rows, cols = customers.get_indexer(frame["customer_id"]), products.get_indexer(frame["product_id"])
    keep = (rows >= 0) & (cols >= 0)
    return sp.csr_matrix((np.ones(int(keep.sum())), (rows[keep], cols[keep])), shape=(len(customers), len(products)))


def product_cells(products: pd.DataFrame) -> np.ndarray:
    """(category, price tier) cell per product: the tier is the product's price tercile in its category."""
    rank = products.groupby("category_id")["list_price"].rank(pct=True, method="first")
    tier = np.minimum((rank.to_numpy() * PRICE_TIERS).astype(int), PRICE_TIERS - 1)
    categories = pd.Index(sorted(products["category_id"].unique()))
    return categories.get_indexer(products["category_id"]) * PRICE_TIERS + tier


def fit_recommender(
    bought: sp.csr_matrix, viewed: sp.csr_matrix, products: pd.DataFrame, n_clusters: int = N_CLUSTERS
) -> RecommenderModel:
    """Fit on customer x product counts of purchases and views (columns in ``products`` order)."""
    cells_of_product = product_cells(products)
    n_cells = int(cells_of_product.max()) + 1
    popularity = np.asarray(bought.sum(axis=0)).ravel() + 1.0
    cell_counts = np.asarray((bought @ _one_hot(cells_of_product, n_cells)).todense())
    shop_cell_share = (cell_counts.sum(axis=0) + 1.0) / (cell_counts.sum() + n_cells)
    lines = np.asarray(bought.sum(axis=1)).ravel()
    views = np.asarray(viewed.sum(axis=1)).ravel()
    active = np.flatnonzero((lines + views) > 0)
    features = profile_features(cell_counts[active], lines[active], views[active], shop_cell_share)
    # Imported here: the Dagster code location imports this module for its mart list on every start, and
    # scikit-learn takes most of a second to import.
    from sklearn.cluster import KMeans

    clusters = KMeans(n_clusters=n_clusters, n_init=4, random_state=SEED).fit(features)
    membership = _one_hot(clusters.labels_, n_clusters)
    group_counts = np.asarray((membership.T @ bought[active]).todense())
    shop = popularity / popularity.sum()
    group_scores = (group_counts + GROUP_PRIOR_LINES * shop) / (
        group_counts.sum(axis=1, keepdims=True) + GROUP_PRIOR_LINES
    )
    brand_codes, brand_of_product = np.unique(products["brand"].fillna("").to_numpy(dtype=str), return_inverse=True)
    brand_lines = np.bincount(brand_of_product, weights=popularity - 1.0, minlength=len(brand_codes)) + 1.0
    return RecommenderModel(
        products["product_id"].to_numpy(),
        cells_of_product,
        shop_cell_share,
        clusters,
        np.vstack([group_scores, shop]),
        brand_of_product,
        brand_lines / brand_lines.sum(),
        repeat_shares(bought, products),
    )


def repeat_shares(bought: sp.csr_matrix, products: pd.DataFrame) -> np.ndarray:
    """Per product, the share of its category's lines that re-buy a product the same customer bought before
    (from the counts: a product bought n times by a customer holds n - 1 repeats)."""
    per_product = np.asarray(bought.sum(axis=0)).ravel()
    repeats = per_product - np.bincount(bought.nonzero()[1], minlength=bought.shape[1])
    category = pd.Index(sorted(products["category_id"].unique())).get_indexer(products["category_id"])
    share = np.bincount(category, weights=repeats) / np.maximum(np.bincount(category, weights=per_product), 1)
    return share[category]


def popularity_scores(
    bought: sp.csr_matrix, repeatable: np.ndarray, popularity: np.ndarray | None = None
) -> np.ndarray:
    """The baseline: every customer gets the shop's best-sellers (log count); bought products are left out
    unless ``repeatable`` (per product), the same candidates as the model's. ``popularity``: the log counts
    when ``bought`` is a chunk of the rows they are counted on (default: counted on ``bought``)."""
    if popularity is None:
        popularity = np.log(np.asarray(bought.sum(axis=0)).ravel() + 1.0)
    out = np.tile(popularity, (bought.shape[0], 1))
    rows, cols = bought.nonzero()
    keep = repeatable[cols]
    out[rows[~keep], cols[~keep]] = -np.inf
    return out


def top_k(scores: np.ndarray, k: int = TOP_K) -> np.ndarray:
    """Column indexes of the ``k`` best scores per row, best first (ties broken by column: deterministic)."""
    # argpartition first: a full sort of 2k products for 20k customers costs seconds.
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part.sort(axis=1)
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def precision_recall_at_k(recommended: np.ndarray, held_out: sp.csr_matrix) -> tuple[float, float]:
    """Mean precision@k and recall@k of ``recommended`` (row-aligned with ``held_out``, a 0/1 matrix of the
    products each customer bought in the held-out period; every row has at least one)."""
    truth = held_out.tocsr()
    hits = np.asarray(truth[np.arange(truth.shape[0])[:, None], recommended].sum(axis=1)).ravel()
    relevant = np.asarray(truth.sum(axis=1)).ravel()
    return float(hits.mean() / recommended.shape[1]), float((hits / relevant).mean())


def top_k_in_chunks(score: Callable[[slice], np.ndarray], rows: int, k: int = TOP_K) -> np.ndarray:
    """:func:`top_k` of ``score(part)`` (dense scores of the rows in ``part``), a chunk of rows at a time: the
    evaluation's whole customer x product matrices (model and baseline) took the training step from 1.6 to
    3.4 GB at SF10, the peak of a full pipeline run. Row by row the same as top_k of the whole matrix."""
    parts = [top_k(score(slice(start, start + SCORING_CHUNK)), k) for start in range(0, rows, SCORING_CHUNK)]
    return np.vstack(parts) if parts else np.empty((0, k), dtype=np.intp)


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, float]
    customers: np.ndarray  # ids of the evaluated customers
    held_out: sp.csr_matrix  # their held-out purchases (0/1), columns in product order
    model: RecommenderModel  # fit before the held-out period
    bought: sp.csr_matrix  # the evaluated customers' purchases before it (counts)
    viewed: sp.csr_matrix

    @property
    def model_scores(self) -> np.ndarray:
        """The model's dense scores of the evaluated customers (computed on demand: customers x products)."""
        return self.model.scores(self.bought, self.viewed)

    @property
    def baseline_scores(self) -> np.ndarray:
        return popularity_scores(self.bought, self.model.repeatable)


def split_at(interactions: Interactions, holdout_days: int = HOLDOUT_DAYS) -> dt.date:
    """First day of the held-out period: the last ``holdout_days`` days with purchases."""
    last = pd.Timestamp(interactions.purchases["event_date"].max())
    return (last - pd.Timedelta(days=holdout_days - 1)).date()


@dataclass(frozen=True)
class _Split:
    bought: sp.csr_matrix  # purchases before the cut (counts)
    viewed: sp.csr_matrix
    later: sp.csr_matrix  # purchases from the cut on, 0/1


def _split(purchases: pd.DataFrame, views: pd.DataFrame, interactions: Interactions, cut: pd.Timestamp) -> _Split:
    products, customers = pd.Index(interactions.products["product_id"]), interactions.customers
    before = pd.to_datetime(purchases["event_date"]) < cut
    later = _matrix(purchases[~before], customers, products)
    later.data[:] = 1.0
    return _Split(
        _matrix(purchases[before], customers, products),
        _matrix(views[pd.to_datetime(views["event_date"]) < cut], customers, products),
        later,
    )


def _score_split(model: RecommenderModel, split: _Split) -> tuple[np.ndarray, sp.csr_matrix]:
    """The rows scored (customers with earlier purchases and a target in the later period) and their targets:
    a product bought before and again later cannot be recommended outside the repeatable categories (it is
    excluded), so it is not a target there."""
    later = split.later - split.later.multiply(split.bought > 0).multiply(
        sp.csr_matrix(~model.repeatable[None, :]).astype(float)
    )
    later.eliminate_zeros()
    history = np.asarray(split.bought.sum(axis=1)).ravel() > 0
    rows = np.flatnonzero(history & (np.asarray(later.sum(axis=1)).ravel() > 0))
    return rows, later[rows]


def choose_brand_weight(interactions: Interactions, cut: pd.Timestamp, holdout_days: int = HOLDOUT_DAYS) -> float:
    """The brand lift's weight among :data:`BRAND_WEIGHTS` with the best precision@10 on the ``holdout_days``
    before ``cut``, fit on the days before them: how much a customer's brands say about their next purchase
    depends on the shop (in a small one a brand holds a few products), so it is learnt, not assumed."""
    earlier = pd.to_datetime(interactions.purchases["event_date"]) < cut
    inner_cut = cut - pd.Timedelta(days=holdout_days)
    split = _split(interactions.purchases[earlier], interactions.views, interactions, inner_cut)
    model = fit_recommender(split.bought, split.viewed, interactions.products)
    rows, targets = _score_split(model, split)
    if not len(rows):
        return BRAND_WEIGHT
    best, best_precision = BRAND_WEIGHTS[0], -1.0
    bought, viewed = split.bought[rows], split.viewed[rows]
    for weight in BRAND_WEIGHTS:
        model.brand_weight = weight
        best_products = top_k_in_chunks(lambda part: model.scores(bought[part], viewed[part]), len(rows))
        precision, _ = precision_recall_at_k(best_products, targets)
        if precision > best_precision + 1e-12:
            best, best_precision = weight, precision
    return best


def evaluate_recommendations(
    interactions: Interactions, holdout_days: int = HOLDOUT_DAYS, brand_weight: float | None = None
) -> Evaluation:
    """Fit on the days before the held-out period, score the customers who bought in it and had bought
    before, against the popularity baseline. The brand weight is ``brand_weight``, or when None chosen on the
    weeks before the held-out ones (:func:`choose_brand_weight`). Metrics: precision/recall@10 of both, the
    relative gain in precision and the brand weight."""
    cut = pd.Timestamp(split_at(interactions, holdout_days))
    split = _split(interactions.purchases, interactions.views, interactions, cut)
    model = fit_recommender(split.bought, split.viewed, interactions.products)
    model.brand_weight = choose_brand_weight(interactions, cut, holdout_days) if brand_weight is None else brand_weight
    rows, held_out = _score_split(model, split)
    bought, viewed = split.bought[rows], split.viewed[rows]
    popularity = np.log(np.asarray(bought.sum(axis=0)).ravel() + 1.0)
    model_best = top_k_in_chunks(lambda part: model.scores(bought[part], viewed[part]), len(rows))
    base_best = top_k_in_chunks(lambda part: popularity_scores(bought[part], model.repeatable, popularity), len(rows))
    precision, recall = precision_recall_at_k(model_best, held_out)
    base_precision, base_recall = precision_recall_at_k(base_best, held_out)
    metrics = {
        "precision_at_10": round(precision, 5),
        "recall_at_10": round(recall, 5),
        "baseline_precision_at_10": round(base_precision, 5),
        "baseline_recall_at_10": round(base_recall, 5),
        "precision_gain": round(precision / base_precision - 1, 4) if base_precision else 0.0,
        "recall_gain": round(recall / base_recall - 1, 4) if base_recall else 0.0,
        "evaluated_customers": float(len(rows)),
        "holdout_days": float(holdout_days),
        "brand_weight": model.brand_weight,
    }
    return Evaluation(metrics, interactions.customers.to_numpy()[rows], held_out, model, bought, viewed)


@dataclass(frozen=True)
class Recommendations:
    model: RecommenderModel
    table: pd.DataFrame  # customer_id, rank, product_id, score, group_id
    metrics: dict[str, float]
    training_window: tuple[str, str]


def train_recommender(interactions: Interactions, holdout_days: int = HOLDOUT_DAYS) -> Recommendations:
    """Evaluate on the held-out period, refit on every day and recommend ``TOP_K`` products to every
    customer. The table has one row per customer and rank (1 = best)."""
    evaluation = evaluate_recommendations(interactions, holdout_days)
    products = pd.Index(interactions.products["product_id"])
    customers = interactions.customers
    bought = _matrix(interactions.purchases, customers, products)
    viewed = _matrix(interactions.views, customers, products)
    model = fit_recommender(bought, viewed, interactions.products)
    model.brand_weight = evaluation.metrics["brand_weight"]
    # In chunks: a dense customer x product score matrix at SF1 would take 320 MB.
    best_parts, score_parts = [], []
    for start in range(0, len(customers), SCORING_CHUNK):
        scores = model.scores(bought[start : start + SCORING_CHUNK], viewed[start : start + SCORING_CHUNK])
        chunk_best = top_k(scores)
        best_parts.append(chunk_best)
        score_parts.append(np.take_along_axis(scores, chunk_best, axis=1))
    best, best_scores = np.vstack(best_parts), np.vstack(score_parts)
    n = len(customers)
    table = pd.DataFrame(
        {
            "customer_id": np.repeat(customers.to_numpy(), TOP_K),
            "rank": np.tile(np.arange(1, TOP_K + 1), n).astype("int32"),
            "product_id": model.product_ids[best.ravel()],
            # The group's purchase probability of the product (the score before the log).
            "score": np.round(np.exp(best_scores.ravel()), 8),
        }
    )
    dates = interactions.purchases["event_date"]
    window = (str(pd.Timestamp(dates.min()).date()), str(pd.Timestamp(dates.max()).date()))
    metrics = evaluation.metrics | {"customers": float(n), "recommendation_rows": float(len(table))}
    return Recommendations(model, table, metrics, window)
