// A web shop's calls to icos with node-postgres (docs/integration.md).
//
// Shop places orders with an external_ref and retries them safely, reads
// order documents with money as exact decimal strings, and turns icos's
// refusals into HTTP responses.  OrderEvents follows the order event log.
// Connections come from the config given, or from libpq's environment
// variables (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD), which
// node-postgres reads too.
'use strict';
const { Client } = require('pg');

// What a refusal means to the shop's own HTTP API.  The SQLSTATEs are
// icos's (docs/orders.md, "Errors"); anything else is the server's fault.
const HTTP_STATUS = {
  IC001: 409, // not enough stock: the basket must change
  IC002: 409, // the order cannot be changed now
  IC003: 422, // payment problem (method, amount, a card number in a text)
  IC004: 404, // unknown store, product, customer, order, line or hold
  IC005: 422, // a promotion's rule refused it
  IC006: 409, // external_ref already used for a different order
  '22023': 400, // malformed request
  '22001': 400, // a text longer than its limit
  '22P02': 400, // malformed product or order code
  '42501': 403, // this login may not do that
};

// Worth trying again: the server went away, a deadlock or serialization
// failure, too many connections, a lock not available.
const RETRYABLE = new Set(['40001', '40P01', '55P03', '57P01', '57P02', '57P03', '53300']);

function retryable(err) {
  const state = err.code || '';
  // no SQLSTATE (or a system error code such as ECONNRESET): the connection broke
  return RETRYABLE.has(state) || state.startsWith('08') || !/^[0-9A-Z]{5}$/.test(state);
}

function httpResponse(err) {
  const status = HTTP_STATUS[err.code] || (retryable(err) ? 503 : 500);
  return { status, body: { sqlstate: err.code, message: err.message, detail: err.detail } };
}

// JSON text with every number that has a fraction or exponent kept as its
// exact text (a string), so 24.50 stays "24.50"; whole numbers (quantities,
// ids) become numbers.  JSON.parse alone would make money binary floats.
function parseExact(text) {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
      out += m[1] || m[2] ? `"${m[0]}"` : m[0];
      i += m[0].length;
    } else {
      out += c;
      i += 1;
    }
  }
  return JSON.parse(out);
}

// An exact decimal to send: exact('30.00') is written as the number 30.00.
class Exact {
  constructor(text) {
    if (!/^-?\d+(\.\d+)?$/.test(String(text))) throw new RangeError(`not an exact decimal: ${text}`);
    this.text = String(text);
  }
}
const exact = (text) => new Exact(text);

// JSON text of a value whose Exact parts are written as the numbers they are.
function stringifyExact(v) {
  if (v instanceof Exact) return v.text;
  if (Array.isArray(v)) return `[${v.map(stringifyExact).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v).filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${JSON.stringify(k)}: ${stringifyExact(x)}`).join(', ')}}`;
  }
  return JSON.stringify(v);
}

// Pounds as exact text ("24.50") to whole pence as a BigInt.
function pence(amount) {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(amount));
  if (!m) throw new RangeError(`not an amount of money: ${amount}`);
  const p = BigInt(m[2]) * 100n + BigInt((m[3] || '0').padEnd(2, '0'));
  return m[1] ? -p : p;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Shop {
  constructor(config = {}, attempts = 5) {
    this.config = config;
    this.attempts = attempts;
    this.client = null;
    this.retries = 0;
  }

  async connection() {
    if (this.client === null) {
      const client = new Client(this.config);
      // a connection that dies while idle must not crash the process
      client.on('error', () => { if (this.client === client) this.client = null; });
      await client.connect();
      this.client = client;
    }
    return this.client;
  }

  async close() {
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => {});
  }

  // One icos call, tried again on a retryable failure.  Only calls that are
  // safe to repeat come here.
  async call(sql, params) {
    for (let attempt = 1; ; attempt++) {
      try {
        const client = await this.connection();
        const res = await client.query(sql, params);
        return res.rows[0].value;
      } catch (err) {
        if (!retryable(err) || attempt >= this.attempts) throw err;
        this.retries += 1;
        await this.close();
        await sleep(Math.min(50 * 2 ** attempt, 2000));
      }
    }
  }

  // The order's code.  The document's external_ref makes a repeat harmless:
  // icos returns the order the first attempt placed.  Give amounts as
  // exact('30.00').
  async placeOrder(document) {
    if (!document.external_ref) throw new Error('give the order an external_ref, or it cannot be retried');
    return this.call('SELECT icos.place_order($1::jsonb)::text AS value', [stringifyExact(document)]);
  }

  // The order document, money as exact decimal strings.
  async order(code) {
    return parseExact(await this.call('SELECT icos.order($1)::text AS value', [code]));
  }
}

// The order event log, followed.  The log (icos.order_event) is the truth
// and the notification only a doorbell: LISTEN first, then read the log from
// where the consumer stopped, then read it again whenever the bell rings.
// An event comes out once per (store, code, event_id) while it is within
// OVERLAP of the newest one; handlers must still be idempotent.
const UTC = `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

class OrderEvents {
  constructor(config = {}) {
    this.client = new Client(config);
    this.client.on('error', () => {});
    this.seen = new Map();
    this.since = null;
    this.bell = null;
    this.rang = false;
  }

  async start(since = null) {
    await this.client.connect();
    this.client.on('notification', (msg) => {
      if (msg.channel !== 'icos_order_events') return;
      this.rang = true;
      if (this.bell) this.bell();
    });
    await this.client.query('LISTEN icos_order_events');
    this.since = since || (await this.client.query(`SELECT ${UTC} AS t FROM (SELECT now() AS at) n`)).rows[0].t;
  }

  // The events of the log not handed over yet, oldest first.
  async read() {
    this.rang = false;
    const res = await this.client.query(
      `SELECT store_id AS store, code::text AS code, event_id::text AS event_id,
              kind::text AS kind, ${UTC} AS at
         FROM icos.order_event
        WHERE at >= $1::timestamptz - interval '5 minutes'
        ORDER BY at, store_id, event_id`, [this.since]);
    const fresh = [];
    for (const e of res.rows) {
      const key = `${e.store}/${e.code}/${e.event_id}`;
      if (this.seen.has(key)) continue;
      this.seen.set(key, e.at);
      fresh.push(e);
      if (e.at > this.since) this.since = e.at; // one format: compares as text
    }
    if (res.rows.length > 0) {
      const floor = res.rows[0].at;
      for (const [key, at] of this.seen) if (at < floor) this.seen.delete(key);
    }
    return fresh;
  }

  // Resolves true when the bell rang (perhaps during the last read), false
  // after ms of silence.
  wait(ms) {
    if (this.rang) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.bell = null; resolve(false); }, ms);
      this.bell = () => { clearTimeout(timer); this.bell = null; resolve(true); };
    });
  }

  async end() {
    await this.client.end();
  }
}

module.exports = {
  Shop, OrderEvents, httpResponse, retryable, parseExact, stringifyExact, exact, pence, HTTP_STATUS,
};
