"""Operational events for the demo warehouse, generated inside DuckDB from a seed.

Everything is set-based SQL (`range()` and `hash()` as the random source) so a million events take about
a second; a Python loop would take minutes. The same seed and `now` always give the same events.
The two deliberate faults described in demo/README.md are planted here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

SEED = 20_240_611
DAYS = 90
NEGATIVE_PAYMENTS = 7  # fault: captured payments with a negative amount (fails `non_negative`)
ADDRESS_SILENCE_HOURS = 76  # fault: no delivery_address_changed events lately (its SLA is 24 h)

# Per-day base volumes before growth, weekday and noise factors.
_BASE = {"users": 1400, "purchases": 4800, "addresses": 700}

_PLACES = """[
    {'country': 'DE', 'city': 'Berlin', 'zip': '10', 'currency': 'EUR'},
    {'country': 'DE', 'city': 'Hamburg', 'zip': '20', 'currency': 'EUR'},
    {'country': 'DE', 'city': 'Munich', 'zip': '80', 'currency': 'EUR'},
    {'country': 'DE', 'city': 'Cologne', 'zip': '50', 'currency': 'EUR'},
    {'country': 'AT', 'city': 'Vienna', 'zip': '1', 'currency': 'EUR'},
    {'country': 'NL', 'city': 'Amsterdam', 'zip': '1', 'currency': 'EUR'},
    {'country': 'CH', 'city': 'Zurich', 'zip': '8', 'currency': 'CHF'},
    {'country': 'PL', 'city': 'Warsaw', 'zip': '00', 'currency': 'PLN'}
]"""
_STREETS = "['Hauptstrasse', 'Bahnhofstrasse', 'Gartenweg', 'Lindenallee', 'Marktplatz', 'Schulstrasse']"

_SQL = """
CREATE OR REPLACE TEMP MACRO rnd(tag, k) AS (hash({seed}, tag, k) % 1000000007) / 1000000007.0;
-- People act mostly in the daytime: 80 % of events fall between 07:00 and 22:00.
CREATE OR REPLACE TEMP MACRO intraday(tag, k) AS to_seconds(floor(
    CASE WHEN rnd(tag || '_day', k) < 0.8 THEN 25200 + rnd(tag, k) * 54000 ELSE rnd(tag, k) * 86399 END
)::BIGINT);
CREATE OR REPLACE TEMP MACRO place(k) AS {places}[1 + floor(rnd('place', k) * 8)::INT];

CREATE OR REPLACE TEMP TABLE days AS
WITH d AS (
    SELECT d, date_trunc('day', {now}) - to_days({days} - 1 - d) AS day_start,
           (1 + 0.6 * d / ({days} - 1))
           * CASE isodow(date_trunc('day', {now}) - to_days({days} - 1 - d))
                 WHEN 5 THEN 1.1 WHEN 6 THEN 0.7 WHEN 7 THEN 0.6 ELSE 1.0 END
           * (0.9 + 0.2 * rnd('noise', d)) AS f
    FROM range({days}) t(d)
)
SELECT d, day_start,
       round({users} * f)::BIGINT AS n_users, round({purchases} * f)::BIGINT AS n_purchases,
       round({addresses} * f)::BIGINT AS n_addresses,
       coalesce(sum(round({users} * f)::BIGINT) OVER (
           ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS users_before
FROM d;

CREATE OR REPLACE TEMP TABLE users AS
WITH u AS (SELECT d, day_start, unnest(range(n_users)) AS i FROM days)
SELECT user_id, day_start + intraday('user', user_id) AS occurred_at, place(user_id) AS p
FROM (SELECT *, row_number() OVER (ORDER BY d, i) AS user_id FROM u);

CREATE OR REPLACE TEMP TABLE purchases AS
WITH p AS (
    SELECT d, day_start, users_before, unnest(range(n_purchases)) AS i FROM days WHERE users_before > 0
),
n AS (SELECT *, row_number() OVER (ORDER BY d, i) AS purchase_id FROM p)
SELECT purchase_id, day_start + intraday('purchase', purchase_id) AS occurred_at,
       1 + floor(rnd('buyer', purchase_id) * users_before)::BIGINT AS user_id,
       -- log-normal basket size (Box-Muller), median about 24 EUR
       greatest(199, round(exp(7.8 + 0.8
           * sqrt(-2 * ln(1 - rnd('amount_a', purchase_id))) * cos(2 * pi() * rnd('amount_b', purchase_id))
       )))::BIGINT AS amount_cents
FROM n;

CREATE OR REPLACE TEMP TABLE payments AS
SELECT row_number() OVER (ORDER BY p.purchase_id) AS payment_id, p.purchase_id, p.user_id,
       p.occurred_at + to_seconds(30 + floor(rnd('capture', p.purchase_id) * 900)::BIGINT) AS occurred_at,
       p.amount_cents, u.p.currency AS currency
FROM purchases p JOIN users u USING (user_id)
WHERE rnd('paid', p.purchase_id) < 0.93;

CREATE OR REPLACE TEMP TABLE addresses AS
WITH a AS (
    SELECT d, day_start, users_before, unnest(range(n_addresses)) AS i FROM days WHERE users_before > 0
),
n AS (SELECT *, row_number() OVER (ORDER BY d, i) AS address_id FROM a)
SELECT address_id, day_start + intraday('address', address_id) AS occurred_at,
       1 + floor(rnd('mover', address_id) * users_before)::BIGINT AS user_id, place(address_id) AS p,
       {streets}[1 + floor(rnd('street', address_id) * 6)::INT] || ' '
           || (1 + floor(rnd('house', address_id) * 120)::INT) AS street,
       lpad((floor(rnd('zip', address_id) * 1000)::INT)::VARCHAR, 3, '0') AS zip_tail
FROM n;

CREATE SCHEMA IF NOT EXISTS raw;
CREATE OR REPLACE TABLE raw.events AS
WITH e AS (
    SELECT 'user_registered' AS event_type, user_id AS entity_id, occurred_at, user_id,
           NULL::BIGINT AS purchase_id, NULL::BIGINT AS amount_cents, p.currency AS currency,
           p.country AS country, p.city AS city, NULL AS postcode, NULL AS street
    FROM users
    UNION ALL
    SELECT 'purchase_created', p.purchase_id, p.occurred_at, p.user_id, p.purchase_id, p.amount_cents,
           u.p.currency, NULL, NULL, NULL, NULL
    FROM purchases p JOIN users u USING (user_id)
    UNION ALL
    SELECT 'payment_captured', payment_id, occurred_at, user_id, purchase_id,
           CASE WHEN payment_id IN (
               SELECT payment_id FROM payments WHERE occurred_at < {now} - INTERVAL 1 DAY
               ORDER BY rnd('negative', payment_id) LIMIT {negative}
           ) THEN -amount_cents ELSE amount_cents END,
           currency, NULL, NULL, NULL, NULL
    FROM payments
    UNION ALL
    SELECT 'payment_refunded', payment_id,
           occurred_at + to_seconds(3600 + floor(rnd('refund_at', payment_id) * 14 * 86400)::BIGINT),
           user_id, purchase_id,
           CASE WHEN rnd('partial', payment_id) < 0.3 THEN amount_cents // 2 ELSE amount_cents END,
           currency, NULL, NULL, NULL, NULL
    FROM payments WHERE rnd('refund', payment_id) < 0.035
    UNION ALL
    SELECT 'delivery_address_changed', address_id, occurred_at, user_id, NULL, NULL, NULL,
           p.country, p.city, p.zip || zip_tail, street
    FROM addresses WHERE occurred_at < {now} - INTERVAL {silence} HOUR
),
loaded AS (
    -- The loader lands events in 5-minute micro-batches. Load time grows with event time, so an event
    -- is never loaded before the events it refers to (keeps the relationships tests green).
    SELECT *,
           time_bucket(INTERVAL 5 MINUTE, occurred_at + INTERVAL 20 SECOND) + INTERVAL 5 MINUTE AS loaded_at
    FROM e WHERE occurred_at <= {now}
)
SELECT row_number() OVER (ORDER BY loaded_at, event_type, entity_id) AS event_id, event_type, entity_id,
       occurred_at, loaded_at, user_id, purchase_id, amount_cents, currency, country, city, postcode, street
FROM loaded WHERE loaded_at <= {now}
ORDER BY loaded_at;
"""


def generate_events(
    con: duckdb.DuckDBPyConnection, *, now: datetime, seed: int = SEED, days: int = DAYS
) -> int:
    """(Re)create `raw.events` in `con` with `days` days of events ending at `now`; returns the count.

    Timestamps are naive UTC (TIMESTAMP), the way loaders usually land them.
    """
    naive_now = now.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    sql = _SQL.format(
        seed=int(seed),
        days=int(days),
        now=f"TIMESTAMP '{naive_now.isoformat(sep=' ')}'",
        places=_PLACES,
        streets=_STREETS,
        negative=NEGATIVE_PAYMENTS,
        silence=ADDRESS_SILENCE_HOURS,
        **_BASE,
    )
    con.execute("SET enable_progress_bar = false")
    con.execute(sql)
    ((count,),) = con.execute("SELECT count(*) FROM raw.events").fetchall()
    return int(count)


def write_events(path: Path, *, now: datetime, seed: int = SEED) -> int:
    """Generate the events into the DuckDB file at `path` and close it (DuckDB allows one writer)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        return generate_events(con, now=now, seed=seed)
