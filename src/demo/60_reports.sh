# Head office reports on every store: televisions sold today, sales by channel
# sales_report is exact and current: it adds the daily rollup to the sales
# not yet folded into it, so it needs no batch job to be right.  The stores'
# sales reach head office by replication; wait until both are in step.
fleet_in_step 1 0 && fleet_in_step 2 0 || { echo "a store is not in step with head office"; exit 1; }
today=$(date +%F)
echo "Televisions sold today (the category includes OLED and LED sub-categories):"
psql -X -q -h "$(cluster_host demo)" -U postgres -P footer=off -c "
	SELECT label AS category, orders, units, gross, discount, net, returns
	FROM icos.sales_report(current_date, current_date + 1, 'category')
	WHERE label LIKE 'Electricals > Televisions%'"
echo "\$ icos report --from $today --to $today --by channel"
PGHOST=127.0.0.1 PGUSER=emp_900 PGPASSWORD=demo \
	"$ICOS" report --from "$today" --to "$today" --by channel
echo
echo "\$ icos node status      (head office's view of its stores)"
"$ICOS" --dsn "$HQ" node status
