"""A web shop's calls to icos with psycopg 3 (docs/integration.md).

Shop(dsn) places orders with an external_ref and retries them safely, reads
order documents with money as Decimal, and turns icos's refusals into HTTP
responses.  OrderEvents(dsn) follows the order event log.  The connection
comes from the dsn, or from libpq's environment (PGHOST, PGPORT, PGUSER,
PGDATABASE, PGPASSWORD) when the dsn is empty.
"""
import json
import select
import time
from decimal import Decimal
from functools import partial

import psycopg
from psycopg.types.json import set_json_loads

# What a refusal means to the shop's own HTTP API.  The SQLSTATEs are
# icos's (docs/orders.md, "Errors"); anything else is the server's fault.
HTTP_STATUS = {
    "IC001": 409,  # not enough stock: the basket must change
    "IC002": 409,  # the order cannot be changed now
    "IC003": 422,  # payment problem (method, amount, a card number in a text)
    "IC004": 404,  # unknown store, product, customer, order, line or hold
    "IC005": 422,  # a promotion's rule refused it
    "IC006": 409,  # external_ref already used for a different order
    "22023": 400,  # malformed request
    "22001": 400,  # a text longer than its limit
    "22P02": 400,  # malformed product or order code
    "42501": 403,  # this login may not do that
}

# Worth trying again: the server went away, a deadlock or serialization
# failure, too many connections, a lock not available.
RETRYABLE = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300"}


def retryable(err):
    state = err.sqlstate or ""
    return state in RETRYABLE or state.startswith("08") or (
        isinstance(err, psycopg.OperationalError) and not state)


def http_response(err):
    """(status, body) for a psycopg error raised by an icos call."""
    diag = err.diag
    status = HTTP_STATUS.get(err.sqlstate, 503 if retryable(err) else 500)
    return status, {"sqlstate": err.sqlstate, "message": diag.message_primary,
                    "detail": diag.message_detail}


def dumps_exact(value):
    """JSON text of value, with Decimal written as the exact number it is."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("not a finite amount: %s" % value)
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(json.dumps(str(k)) + ": " + dumps_exact(v)
                               for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(dumps_exact(v) for v in value) + "]"
    return json.dumps(value)


def connect(dsn=""):
    """An autocommit connection whose json/jsonb numbers load as Decimal."""
    conn = psycopg.connect(dsn, autocommit=True)
    set_json_loads(partial(json.loads, parse_float=Decimal), conn)
    return conn


class Shop:
    def __init__(self, dsn="", attempts=5):
        self.dsn = dsn
        self.attempts = attempts
        self.conn = None
        self.retries = 0

    def connection(self):
        if self.conn is None or self.conn.closed or self.conn.broken:
            self.conn = connect(self.dsn)
        return self.conn

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _call(self, sql, params):
        """One icos call, tried again on a retryable failure.  Only calls
        that are safe to repeat come here."""
        for attempt in range(1, self.attempts + 1):
            try:
                return self.connection().execute(sql, params).fetchone()[0]
            except psycopg.Error as err:
                if not retryable(err) or attempt == self.attempts:
                    raise
                self.retries += 1
                self.close()
                time.sleep(min(0.05 * 2 ** attempt, 2.0))

    def place_order(self, document):
        """The order's code.  The document's external_ref makes a repeat
        harmless: icos returns the order the first attempt placed."""
        if not document.get("external_ref"):
            raise ValueError("give the order an external_ref, or it cannot be retried")
        return self._call("SELECT icos.place_order(%s::jsonb)::text",
                          [dumps_exact(document)])

    def order(self, code):
        """The order document: money as Decimal, counts as int."""
        return self._call("SELECT icos.order(%s)", [code])


def pence(amount):
    """Decimal pounds to whole pence, refusing fractions of a penny."""
    scaled = amount * 100
    if scaled != scaled.to_integral_value():
        raise ValueError("not a whole number of pence: %s" % amount)
    return int(scaled)


class OrderEvents:
    """The order event log, followed.  The log (icos.order_event) is the
    truth and the notification only a doorbell: LISTEN first, then read the
    log from where the consumer stopped, then read it again whenever the
    bell rings.  An event comes out once per (store, code, event_id) while it
    is within OVERLAP of the newest one; handlers must still be idempotent,
    since a consumer that restarts may see an event again."""

    OVERLAP = "5 minutes"

    def __init__(self, dsn="", since=None):
        self.conn = connect(dsn)
        self.rang = 0
        self.conn.add_notify_handler(self._ring)
        self.conn.execute("LISTEN icos_order_events")
        self.since = since or self.conn.execute("SELECT now()").fetchone()[0]
        self.seen = {}

    def _ring(self, notify):
        if notify.channel == "icos_order_events":
            self.rang += 1

    def read(self):
        """The events of the log not handed over yet, oldest first."""
        rows = self.conn.execute(
            "SELECT store_id, code::text, event_id, kind::text, at"
            "  FROM icos.order_event"
            " WHERE at >= %s::timestamptz - %s::interval"
            " ORDER BY at, store_id, event_id", [self.since, self.OVERLAP]).fetchall()
        new = []
        for store, code, event_id, kind, at in rows:
            key = (store, code, event_id)
            if key not in self.seen:
                self.seen[key] = at
                new.append({"store": store, "code": code, "event_id": event_id,
                            "kind": kind, "at": at})
                self.since = max(self.since, at)
        # forget what the next read cannot return again
        floor = rows[0][4] if rows else self.since
        self.seen = {k: at for k, at in self.seen.items() if at >= floor}
        return new

    def wait(self, timeout):
        """True when the bell rang (perhaps during the last read), False
        after timeout seconds of silence."""
        if self.rang == 0 and select.select([self.conn.fileno()], [], [], timeout)[0]:
            self.conn.execute("SELECT 1")  # takes in what arrived
        rang, self.rang = self.rang, 0
        return rang > 0
