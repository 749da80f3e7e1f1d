# Reports: televisions sold today, and sales by channel
# sales_report is exact and current: it adds the daily rollup to the sales
# not yet folded into it, so it needs no batch job to be right.
today=$(date +%F)
echo "Televisions sold today (the category includes OLED and LED sub-categories):"
psql -X -q -h "$(cluster_host demo)" -U postgres -P footer=off -c "
	SELECT label AS category, orders, units, gross, discount, net, returns
	FROM icos.sales_report(current_date, current_date + 1, 'category')
	WHERE label LIKE 'Electricals > Televisions%'"
echo "\$ icos report --from $today --to $today --by channel"
PGHOST=127.0.0.1 PGUSER=emp_900 PGPASSWORD=demo \
	"$PG_BINDIR/icos" report --from "$today" --to "$today" --by channel
