# The icos client: a product look-up and a till session at Oxford Street
# Run by src/demo/demo.sh with PGHOST, PGPORT and PGDATABASE set; Priya
# (emp_101) logs in over TCP with her password, as a till would.
ICOS="$PG_BINDIR/icos"
export PGHOST=127.0.0.1 PGUSER=emp_101 PGPASSWORD=demo
upc_of() {
	psql -X -At -h "$(cluster_host demo)" -U postgres -c \
		"SELECT upc FROM icos.product WHERE name = '$1'"
}
tv=$(upc_of 'Vista 55in 4K LED television')
bread=$(upc_of 'Sourdough loaf')
cola=$(upc_of 'Cola 330ml')

echo "\$ icos product $tv"
"$ICOS" product "$tv"
echo
echo "A till session, piped (a scanner types each code and Enter); one scan is misread:"
scans=$(printf '%s\n' "$bread" "$cola" 'qty 3' "${cola%?}0" 'pay cash 10' finish quit)
printf '%s\n' "$scans" | sed 's/^/  > /'
printf '%s\n' "$scans" | "$ICOS" till --store 10 2>&1
