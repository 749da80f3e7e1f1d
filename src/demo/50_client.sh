# The icos client: a product look-up and a till session at Oxford Street
# Run by src/demo/demo.sh.  Priya (emp_101) logs in to her store's own
# database (London Oxford Street, node 1) over TCP with her password, as a
# till would.
export PGHOST=127.0.0.1 PGPORT=$(fleet_port 1) PGUSER=emp_101 PGPASSWORD=demo
upc_of() {
	psql -X -At "$S1" -c "SELECT upc FROM icos.product WHERE name = '$1'"
}
tv=$(upc_of 'Vista 55in 4K LED television')
bread=$(upc_of 'Seeded batch loaf')
sandwich=$(upc_of 'Chicken and bacon sandwich')
cola=$(upc_of 'Cola 330ml')
crisps=$(upc_of 'Popcorn 30g')

echo "\$ icos product $tv"
"$ICOS" product "$tv"
echo
echo "A till session, piped (a scanner types each code and Enter): a meal deal, three loaves"
echo "on 3 for 4.00, and one misread scan:"
scans=$(printf '%s\n' "$sandwich" "$cola" "$crisps" "$bread" 'qty 3' "${cola%?}0" 'pay cash 20' finish quit)
printf '%s\n' "$scans" | sed 's/^/  > /'
printf '%s\n' "$scans" | "$ICOS" till --store 10 2>&1
