#!/usr/bin/env bash
# Finding a customer (docs/customers.md, "Finding a customer"), on the bench
# cluster: icos.find_customers by e-mail, by phone and by postcode and name
# among ICOS_BENCH_CUSTOMERS customers (default 1,000,000, each with one
# address; postcodes as dense as real ones, about two customers each), as
# the agents who use it: the call centre (row-level security lets it see
# everyone) and a store's agent (its own store's customers only: half of
# them).  200 calls of each kind, each for a different customer, in one
# session per agent; median and 95th percentile.  Target: under 5 ms.
# The customers are generated with INSERT ... SELECT as superuser.
set -u
. "$(dirname "$0")/../../src/tools/common.sh"
N=${ICOS_BENCH_CUSTOMERS:-1000000}
DB=icos_bench
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $DB "$@"; }

say "generating $N customers with an address each"
t0=$(date +%s)
q <<SQL || exit 1
SET client_min_messages = warning;
INSERT INTO icos.store (store_id, name, kind) VALUES
	(9801, 'Bench customers A', 'store'), (9802, 'Bench customers B', 'store'),
	(9803, 'Bench call centre', 'callcentre')
ON CONFLICT DO NOTHING;
DELETE FROM icos.customer_address WHERE customer_id BETWEEN 900000000001 AND 900000000000 + $N;
DELETE FROM icos.customer WHERE customer_id BETWEEN 900000000001 AND 900000000000 + $N;
INSERT INTO icos.customer (customer_id, store_id, name, email, phone)
SELECT 900000000000 + i, CASE WHEN i % 2 = 0 THEN 9801 ELSE 9802 END, 'Customer ' || i,
	   'c' || i || '@example.com', '+44771' || lpad(i::text, 7, '0')
FROM generate_series(1, $N) i;
-- Postcodes of the form AB12 3CD: about two customers each.
INSERT INTO icos.customer_address (customer_id, address_no, line1, town, postcode)
SELECT 900000000000 + i, 1, i || ' High Street', 'Town',
	   'AB' || (i % 90 + 10) || ' ' || ((i / 90) % 9 + 1) || chr(65 + (i / 810) % 26) || chr(65 + (i / 21060) % 26)
FROM generate_series(1, $N) i;
ANALYZE icos.customer;
ANALYZE icos.customer_address;
SQL
say "generated in $(( $(date +%s) - t0 ))s"

# The two agents (logins of an earlier run outlive its database).
add_agent() {			# add_agent ID NAME STORE
	[ "$(q -c "SELECT count(*) FROM icos.employee WHERE employee_id = $1")" = 0 ] || return 0
	q -c "DROP ROLE IF EXISTS emp_$1" || return 1
	ICOS_PASSWORD=Bench-Agent-$1 "$PG_BINDIR/icos" --dsn "dbname=$DB" employee add --id "$1" \
		--name "$2" --store "$3" --position agent >/dev/null
}
add_agent 9811 'Bench store agent' 9801 || exit 1
add_agent 9813 'Bench call centre agent' 9803 || exit 1

# One session as the employee; 200 calls per kind, customers spread over
# the range (the store agent looks for its own store's: even numbers).
calls() {			# calls EMPLOYEE STEP_OFFSET
	q 2>&1 <<SQL | sed -n 's/.*NOTICE:  //p'
SET SESSION AUTHORIZATION emp_$1;
DO \$\$
DECLARE
	kinds text[] := ARRAY['e-mail', 'phone', 'postcode and name'];
	ms float8[];
	i bigint;
	k int;
	qry text;
	t0 timestamptz;
	found int;
	missed int := 0;
BEGIN
	FOR k IN 1 .. 3 LOOP
		ms := '{}';
		FOR j IN 1 .. 200 LOOP
			i := (j * 4999) % $N;
			i := i - i % 2 + $2;
			qry := CASE k
				WHEN 1 THEN 'C' || i || '@Example.com'
				WHEN 2 THEN '+44 771 ' || lpad(i::text, 7, '0')
				ELSE lower('AB' || (i % 90 + 10) || ((i / 90) % 9 + 1) || chr((65 + (i / 810) % 26)::int)
						   || chr((65 + (i / 21060) % 26)::int)) || ' customer ' || i
			END;
			t0 := clock_timestamp();
			SELECT count(*) INTO found FROM icos.find_customers(qry) d WHERE d ->> 'name' = 'Customer ' || i;
			ms := ms || extract(epoch FROM clock_timestamp() - t0)::float8 * 1000;
			IF found <> 1 THEN
				missed := missed + 1;
			END IF;
		END LOOP;
		RAISE NOTICE '%|%|%|%', kinds[k],
			(SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 2) FROM unnest(ms) x),
			(SELECT round(percentile_cont(0.95) WITHIN GROUP (ORDER BY x)::numeric, 2) FROM unnest(ms) x),
			missed;
		missed := 0;
	END LOOP;
END
\$\$;
SQL
}

centre=$(calls 9813 1) || exit 1
store=$(calls 9811 0) || exit 1

echo
echo "$N customers with an address each; icos.find_customers, 200 calls of each kind (ms)."
echo
echo "| agent | query | median ms | p95 ms | not found | target |"
echo "|---|---|---:|---:|---:|---|"
status=0
row() {			# row AGENT LINES
	echo "$2" | while IFS='|' read -r kind med p95 missed; do
		verdict=met
		awk -v m="$med" 'BEGIN { exit !(m < 5) }' || verdict=MISSED
		[ "$missed" = 0 ] || verdict="MISSED ($missed not found)"
		echo "| $1 | $kind | $med | $p95 | $missed | median < 5 ms: $verdict |"
	done
}
out=$(row "call centre (sees everyone)" "$centre"; row "a store's agent (its own store's)" "$store")
echo "$out"
echo "$out" | grep -q MISSED && status=1
[ "$(echo "$out" | grep -c '^| ')" = 6 ] || { echo "expected six rows of results" >&2; status=1; }
exit $status
