"""Text with planted sentiment and intent: product reviews, support conversations and social mentions,
built from templates and phrase pools. Labels go to the ground truth; a few texts carry an email address
or a phone number, as real free text does, so the privacy layer has something to scrub."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ingestion.world.ids import positions, sequential_ids, take_text
from ingestion.world.random import rng_for

POSITIVE = [
    "Absolutely love it",
    "Great quality and fast delivery",
    "Exceeded my expectations",
    "Works perfectly, highly recommend",
    "Fantastic value for the price",
    "Really happy with this purchase",
]
NEUTRAL = [
    "It is okay, does the job",
    "Average quality, nothing special",
    "Fine for the price",
    "As described, no surprises",
    "Decent but could be better",
]
NEGATIVE = [
    "Terrible quality, very disappointed",
    "Broke after two days, awful",
    "Worst purchase I have made",
    "Poor fit and cheap material, returning it",
    "Arrived damaged and support was useless",
]
DETAILS_POS = ["the {noun} feels sturdy", "my family loves the {noun}", "the {noun} looks even better in person"]
DETAILS_NEU = ["the {noun} is what you would expect", "the {noun} is a bit smaller than I thought"]
DETAILS_NEG = ["the {noun} stopped working", "the {noun} looks nothing like the pictures", "the {noun} smells bad"]

INTENTS = {
    "where_is_my_order": (
        "Hi, where is my order {order}? It was supposed to arrive already.",
        "Let me check the tracking for {order} for you.",
    ),
    "return_request": ("I want to return an item from order {order}.", "I have created a return label for {order}."),
    "damaged_item": (
        "The item in order {order} arrived damaged!",
        "I am sorry about that, a replacement is on its way.",
    ),
    "payment_issue": ("I was charged twice for order {order}.", "I see the duplicate authorization; it will drop off."),
    "product_question": (
        "Does this come in other sizes? Asking about order {order}.",
        "Yes, the product comes in several sizes.",
    ),
    "cancel_order": ("Please cancel order {order}, I ordered by mistake.", "Order {order} has been cancelled."),
}
CUSTOMER_MOOD = {
    "positive": ["Thanks so much, great service!", "Perfect, thank you!"],
    "neutral": ["Ok.", "Alright, thanks."],
    "negative": ["This is unacceptable, I am very frustrated.", "Awful experience, I will not shop here again."],
}
SOCIAL = {
    "positive": [
        "Just got my order from @FutureMart and I love it!",
        "@FutureMart delivery was super quick today",
        "Best deals this week at @FutureMart",
    ],
    "neutral": [
        "Anyone tried the new {noun} at @FutureMart?",
        "@FutureMart has a sale on {noun}s",
        "Looking at a {noun} from @FutureMart",
    ],
    "negative": [
        "@FutureMart my package is late again",
        "Never buying a {noun} from @FutureMart again",
        "@FutureMart customer service is a joke",
    ],
}
PLATFORMS = np.array(["twitter", "instagram", "reddit", "tiktok"], dtype=object)


def _pii_suffix(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """Some writers leave contact details in free text."""
    out = np.full(n, "", dtype=object)
    hit = np.flatnonzero(rng.random(n) < rate)
    for i in hit:
        if rng.random() < 0.5:
            out[i] = f" Contact me at user{int(rng.integers(100, 999))}@example.com"
        else:
            out[i] = f" Call me on +1-{int(rng.integers(200, 999))}-555-{int(rng.integers(1000, 9999))}"
    return out


def reviews(
    seed: int,
    lines: pd.DataFrame,
    orders: pd.DataFrame,
    returns: pd.DataFrame,
    products: pd.DataFrame,
    order_of_line: np.ndarray | None = None,
) -> pd.DataFrame:
    """About 8% of delivered lines get a review; rating follows planted product quality and returns.
    ``order_of_line``: each line's row in ``orders`` when the caller knows it (else looked up by id)."""
    rng = rng_for(seed, "reviews")
    quality = pd.Series(rng.normal(0, 1, len(products)), index=products["product_id"])
    # The delivered lines in their order (what an inner merge of the lines with the delivered orders gave),
    # found by each line's order position: merging millions of lines on text ids cost more than the reviews.
    if order_of_line is None:
        order_of_line = positions(lines["order_id"], pa.array(orders["order_id"], pa.string()))
    candidates = np.flatnonzero((orders["status"] == "delivered").to_numpy()[order_of_line])
    line = candidates[rng.random(len(candidates)) < 0.08]
    order = order_of_line[line]
    cand = pd.DataFrame(
        {
            "order_id": take_text(lines["order_id"], line),
            "line_number": lines["line_number"].to_numpy()[line],
            "product_id": take_text(lines["product_id"], line),
            "customer_id": take_text(orders["customer_id"], order),
            "ordered_at": orders["ordered_at"].to_numpy()[order],
        }
    )
    # Returned lines as (order row, line number) integer pairs: a MultiIndex isin over text ids cost more.
    cand_line, return_line = cand["line_number"].to_numpy(), returns["line_number"].to_numpy()
    width = int(np.concatenate([cand_line, return_line]).max(initial=0)) + 1
    return_order = positions(returns["order_id"], pa.array(orders["order_id"], pa.string()))
    returned = np.isin(order * width + cand_line, return_order * width + return_line)
    score = 3.6 + 0.9 * quality.reindex(cand["product_id"]).to_numpy() - 1.8 * returned + rng.normal(0, 0.7, len(cand))
    rating = np.clip(np.round(score), 1, 5).astype(int)
    sentiment = np.select([rating >= 4, rating == 3], ["positive", "neutral"], "negative")
    nouns = products.set_index("product_id")["product_name"].str.split().str[-1].reindex(cand["product_id"]).to_numpy()
    pools = {
        "positive": (POSITIVE, DETAILS_POS),
        "neutral": (NEUTRAL, DETAILS_NEU),
        "negative": (NEGATIVE, DETAILS_NEG),
    }
    # A head then a detail per review, drawn in one call with each draw's own bound: the same numbers, in the
    # same order, as one integers() call per draw (each bounded draw takes the same bits either way).
    bounds = np.array([[len(pools[s][0]), len(pools[s][1])] for s in pools])
    kind = pd.Index(list(pools)).get_indexer(sentiment)
    drawn = rng.integers(0, bounds[kind].reshape(-1)).reshape(-1, 2) if len(kind) else np.zeros((0, 2), dtype=int)
    # Heads by index into all pools laid end to end; details formatted once per (template, noun) pair that
    # occurs and looked up (a format call per review cost more than the rest of the reviews).
    head_start = np.cumsum([0] + [len(pools[s][0]) for s in pools])[:-1]
    detail_start = np.cumsum([0] + [len(pools[s][1]) for s in pools])[:-1]
    all_heads = np.array([h for s in pools for h in pools[s][0]], dtype=object)
    all_details = [d for s in pools for d in pools[s][1]]
    heads = all_heads[head_start[kind] + drawn[:, 0]]
    noun_code, noun_text = pd.factorize(nouns)
    pair, pair_of_review = np.unique(
        (detail_start[kind] + drawn[:, 1]) * len(noun_text) + noun_code, return_inverse=True
    )
    formatted = np.array(
        [all_details[k // len(noun_text)].format(noun=noun_text[k % len(noun_text)].lower()) for k in pair.tolist()]
        + [""],  # (a spare entry: np.array of no strings would not be an object array)
        dtype=object,
    )
    details = formatted[pair_of_review.reshape(-1)]
    body = heads + ". Honestly, " + details + "."
    body = body + _pii_suffix(rng, len(cand), 0.03)
    created = cand["ordered_at"] + pd.to_timedelta(rng.gamma(2.0, 4.0, len(cand)) * 86400 + 3 * 86400, "s").round("s")
    frame = pd.DataFrame(
        {
            "review_id": sequential_ids("RV", len(cand), 8),
            "product_id": cand["product_id"],
            "customer_id": cand["customer_id"],
            "order_id": cand["order_id"],
            "rating": rating,
            "title": heads,
            "body": body,
            "created_at": created,
            "sentiment": sentiment,
        }
    )
    # By time, then review id: the ids are numbered in row order at one width, so a stable sort on the time
    # alone gives that order without comparing text (NaT would sort last, as in sort_values).
    return frame.take(np.argsort(frame["created_at"].to_numpy(), kind="stable")).reset_index(drop=True)


def support_conversations(seed: int, orders: pd.DataFrame) -> pd.DataFrame:
    """About 4% of orders lead to a support chat with a planted intent, resolution and customer sentiment."""
    rng = rng_for(seed, "support")
    # The columns a chat reads, then the rows (filtering every column of millions of orders cost more).
    cand = orders[["order_id", "customer_id", "ordered_at"]][rng.random(len(orders)) < 0.04].reset_index(drop=True)
    names = np.array(list(INTENTS), dtype=object)
    intent = names[rng.choice(len(names), len(cand), p=[0.32, 0.22, 0.12, 0.08, 0.16, 0.10])]
    resolved = rng.random(len(cand)) < np.where(np.isin(intent, ["damaged_item", "payment_issue"]), 0.7, 0.9)
    mood = np.where(~resolved, "negative", np.where(rng.random(len(cand)) < 0.6, "positive", "neutral"))
    opened = cand["ordered_at"] + pd.to_timedelta(rng.gamma(2.0, 2.0, len(cand)) * 86400, "s").round("s")
    minutes = np.where(resolved, rng.gamma(2.0, 6.0, len(cand)), rng.gamma(2.0, 20.0, len(cand)))
    transcripts = []
    for order_id, it, m in zip(cand["order_id"], intent, mood, strict=True):
        ask, answer = INTENTS[it]
        closing = CUSTOMER_MOOD[m][int(rng.integers(0, len(CUSTOMER_MOOD[m])))]
        transcripts.append(
            f"customer: {ask.format(order=order_id)}\nagent: {answer.format(order=order_id)}\ncustomer: {closing}"
        )
    transcript = np.array(transcripts, dtype=object) + _pii_suffix(rng, len(cand), 0.05)
    return (
        pd.DataFrame(
            {
                "conversation_id": sequential_ids("CV", len(cand), 8),
                "customer_id": cand["customer_id"],
                "order_id": cand["order_id"],
                "channel": "chat",
                "opened_at": opened,
                "closed_at": opened + pd.to_timedelta(np.round(minutes * 60), "s"),
                "resolution": np.where(
                    resolved, "resolved", np.where(rng.random(len(cand)) < 0.5, "escalated", "unresolved")
                ),
                "transcript": transcript,
                "intent": intent,
                "sentiment": mood,
            }
        )
        # By time, then conversation id: ids numbered in row order at one width, so a stable sort on the time
        # gives that order without comparing text.
        .pipe(lambda frame: frame.take(np.argsort(frame["opened_at"].to_numpy(), kind="stable")))
        .reset_index(drop=True)
    )


def social_mentions(seed: int, scale_factor: float, days: pd.DatetimeIndex, products: pd.DataFrame) -> pd.DataFrame:
    rng = rng_for(seed, "social")
    per_day = rng.poisson(25 * scale_factor + 2, len(days))
    day = np.repeat(np.arange(len(days)), per_day)
    n = len(day)
    sentiment = np.array(["positive", "neutral", "negative"], dtype=object)[rng.choice(3, n, p=[0.45, 0.35, 0.2])]
    nouns = products["product_name"].str.split().str[-1].str.lower().to_numpy()
    # A template then a noun per mention, drawn in one call with each draw's own bound (the same numbers, in the
    # same order, as two integers() calls a mention).
    drawn = rng.integers(0, np.tile([3, len(nouns)], n)).reshape(-1, 2).tolist() if n else []
    text = [SOCIAL[s][k].format(noun=nouns[j]) for s, (k, j) in zip(sentiment, drawn, strict=True)]
    posted = days[day] + pd.to_timedelta(rng.integers(0, 86400, n), "s")
    return (
        pd.DataFrame(
            {
                "mention_id": sequential_ids("SM", n, 8),
                "platform": PLATFORMS[rng.integers(0, len(PLATFORMS), n)],
                "posted_at": posted,
                "author_handle": [f"@user{int(x)}" for x in rng.integers(1000, 99999, n)],
                "text": text,
                "sentiment": sentiment,
            }
        )
        # By time, then mention id: ids numbered in row order at one width, so a stable sort on the time gives
        # that order without comparing text.
        .pipe(lambda frame: frame.take(np.argsort(frame["posted_at"].to_numpy(), kind="stable")))
        .reset_index(drop=True)
    )


def market_trend(seed: int, days: pd.DatetimeIndex) -> pd.DataFrame:
    """A weekly-published consumer demand index (base 100): drift, season and noise."""
    rng = rng_for(seed, "trend")
    weeks = days[days.weekday == 0]
    t = np.arange(len(weeks))
    value = (
        100
        + 0.05 * t
        + 6 * np.cos(2 * np.pi * (weeks.dayofyear.to_numpy() - 340) / 365.25)
        + np.cumsum(rng.normal(0, 0.6, len(weeks)))
    )
    return pd.DataFrame(
        {"week_start": weeks.date, "index_name": "us_online_retail_demand", "index_value": np.round(value, 2)}
    )
