# The web order of the benchmarks (test/bench/orders.sh, promotions.sh), as
# a pgbench script: customer k of the 10,000 of orders_catalogue.sql, given
# by her details (she is found by e-mail and not changed), home delivery, 3
# lines the server finds in a store of this node, drawn from the first 200
# elements of the array constant $1 (quoted product codes, comma-separated),
# a card payment with a reference.  Sourced, not executed.
web_order_script() {
	cat <<EOT
\\set a random(1, 200)
\\set b random(1, 200)
\\set c random(1, 200)
\\set k random(1, 10000)
SELECT icos.place_order(jsonb_build_object(
	'store', 601, 'channel', 'web',
	'customer', jsonb_build_object('name', 'Bench Customer ' || :k, 'email', 'customer' || :k || '@example.com',
		'phone', '+4477009' || lpad(:k::text, 5, '0'),
		'address', jsonb_build_object('line1', 'customer' || :k || ' High Street', 'town', 'Leeds', 'postcode', 'LS1 1AA')),
	'lines', jsonb_build_array(
		jsonb_build_object('upc', (ARRAY[$1])[:a], 'qty', 1),
		jsonb_build_object('upc', (ARRAY[$1])[:b], 'qty', 2),
		jsonb_build_object('upc', (ARRAY[$1])[:c], 'qty', 1)),
	'delivery', jsonb_build_object('method', 'home'),
	'payments', jsonb_build_array(jsonb_build_object('method', 'visa', 'amount', 1.00, 'reference', 'auth ' || :k))));
EOT
}
