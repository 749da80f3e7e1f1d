// Runs the web shop of icos_shop.js against a database and prints what it
// saw as one JSON object (test/t/090_integration.pl checks it).
//
// The shop connects through libpq's environment (PGHOST, PGPORT, PGDATABASE)
// as the login ICOS_SHOP_USER; ICOS_ADMIN_USER may end the shop's sessions.
// The catalogue is test/t/090_integration.pl's: product 4006381333931
// (24.50) in stock at store 1, sold by store 3 (the website).
'use strict';
const { Client } = require('pg');
const { Shop, OrderEvents, httpResponse, exact, pence } = require('./icos_shop');

const shopConfig = { user: process.env.ICOS_SHOP_USER };
const adminConfig = { user: process.env.ICOS_ADMIN_USER };
const prefix = process.argv[2] || 'js';

function webOrder(ref, qty = 2, extra = {}) {
  return {
    store: 3, channel: 'web', external_ref: ref,
    customer: { name: 'Ann Smith', email: 'ann@example.com',
      address: { line1: '2 High St', town: 'Leeds', postcode: 'LS2 1AA' } },
    lines: [{ upc: '4006381333931', qty, fulfil_from: 1 }],
    delivery: { method: 'home' },
    ...extra,
  };
}

async function refusal(call) {
  try {
    await call();
  } catch (err) {
    const { status, body } = httpResponse(err);
    return { status, sqlstate: body.sqlstate, message: body.message };
  }
  return null;
}

async function main() {
  const report = {};
  const shop = new Shop(shopConfig);
  const events = new OrderEvents(shopConfig);
  await events.start();

  // The shop's connection dies (a restart, a failover) before it places an
  // order: the retry reconnects, and the external_ref makes it safe.
  const pid = (await (await shop.connection()).query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  const admin = new Client(adminConfig);
  await admin.connect();
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  await admin.end();
  const order = webOrder(`${prefix}-1001`, 2,
    { payments: [{ method: 'visa', amount: exact('30.00'), reference: 'auth 4471' }] });
  const code = await shop.placeOrder(order);
  report.code = code;
  report.retries_after_lost_connection = shop.retries;
  // The answer was lost, say: the same call again gives the same order.
  report.again_same_code = (await shop.placeOrder(order)) === code;

  const doc = await shop.order(code);
  report.total = doc.total;
  report.paid = doc.paid;
  report.balance = doc.balance;
  report.money_type = typeof doc.total;
  report.balance_pence = Number(pence(doc.balance));
  report.lines_sum_equals_total =
    doc.lines.reduce((sum, l) => sum + pence(l.net), 0n) === pence(doc.total);
  report.external_ref = doc.external_ref;

  report.refusals = {
    reused_ref: await refusal(() => shop.placeOrder(webOrder(`${prefix}-1001`, 1))),
    no_stock: await refusal(() => shop.placeOrder(webOrder(`${prefix}-1002`, 100000))),
    bad_request: await refusal(() => shop.placeOrder(webOrder(`${prefix}-1003`, 2, { colour: 'red' }))),
    bad_code: await refusal(() => shop.order('not-a-code')),
  };

  // Events: the bell rings for an order placed now; the log says what happened.
  report.events_before = (await events.read()).map((e) => e.code);
  const second = await shop.placeOrder(webOrder(`${prefix}-1004`, 1));
  const seen = [];
  const deadline = Date.now() + 120000;
  while (!seen.some((e) => e.code === second) && Date.now() < deadline) {
    if (await events.wait(5000)) seen.push(...await events.read());
  }
  report.second = second;
  report.events = seen.map((e) => [e.code, e.kind]);
  await events.end();
  await shop.close();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
