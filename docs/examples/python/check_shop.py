"""Runs the web shop of icos_shop.py against a database and prints what it
saw as one JSON object (test/t/090_integration.pl checks it).

The shop connects through libpq's environment (PGHOST, PGPORT, PGDATABASE)
as the login ICOS_SHOP_USER; ICOS_ADMIN_USER may end the shop's sessions.
The catalogue is test/t/090_integration.pl's: product 4006381333931 (24.50)
in stock at store 1, sold by store 3 (the website).
"""
import json
import os
import sys
import time
from decimal import Decimal

import psycopg

from icos_shop import OrderEvents, Shop, connect, http_response, pence

shop_dsn = "user=" + os.environ["ICOS_SHOP_USER"]
admin_dsn = "user=" + os.environ["ICOS_ADMIN_USER"]
prefix = sys.argv[1] if len(sys.argv) > 1 else "py"
report = {}


def web_order(ref, qty=2, **extra):
    doc = {"store": 3, "channel": "web", "external_ref": ref,
           "customer": {"name": "Ann Smith", "email": "ann@example.com",
                        "address": {"line1": "2 High St", "town": "Leeds",
                                    "postcode": "LS2 1AA"}},
           "lines": [{"upc": "4006381333931", "qty": qty, "fulfil_from": 1}],
           "delivery": {"method": "home"}}
    doc.update(extra)
    return doc


def refusal(call):
    try:
        call()
    except psycopg.Error as err:
        status, body = http_response(err)
        return {"status": status, "sqlstate": body["sqlstate"], "message": body["message"]}
    return None


shop = Shop(shop_dsn)
events = OrderEvents(shop_dsn)

# The shop's connection dies (a restart, a failover) before it places an
# order: the retry reconnects, and the external_ref makes it safe.
with connect(admin_dsn) as admin:
    admin.execute("SELECT pg_terminate_backend(%s)", [shop.connection().info.backend_pid])
order = web_order(prefix + "-1001", payments=[{"method": "visa", "amount": Decimal("30.00"),
                                               "reference": "auth 4471"}])
code = shop.place_order(order)
report["code"] = code
report["retries_after_lost_connection"] = shop.retries
# The answer was lost, say: the same call again gives the same order.
report["again_same_code"] = shop.place_order(order) == code

doc = shop.order(code)
report["total"] = str(doc["total"])
report["paid"] = str(doc["paid"])
report["balance"] = str(doc["balance"])
report["money_type"] = type(doc["total"]).__name__
report["balance_pence"] = pence(doc["balance"])
report["lines_sum_equals_total"] = sum(l["net"] for l in doc["lines"]) == doc["total"]
report["external_ref"] = doc["external_ref"]

report["refusals"] = {
    "reused_ref": refusal(lambda: shop.place_order(web_order(prefix + "-1001", qty=1))),
    "no_stock": refusal(lambda: shop.place_order(web_order(prefix + "-1002", qty=100000))),
    "bad_request": refusal(lambda: shop.place_order(web_order(prefix + "-1003", colour="red"))),
    "bad_code": refusal(lambda: shop.order("not-a-code")),
}

# Events: the bell rings for an order placed now; the log says what happened.
report["events_before"] = [e["code"] for e in events.read()]
second = shop.place_order(web_order(prefix + "-1004", qty=1))
seen = []
deadline = time.monotonic() + 120
while not any(e["code"] == second for e in seen) and time.monotonic() < deadline:
    if events.wait(5):
        seen += events.read()
report["second"] = second
report["events"] = [[e["code"], e["kind"]] for e in seen]
json.dump(report, sys.stdout)
print()
