# Linking head office and the two store databases with icos node
# Run by src/demo/demo.sh with HQ, S1 and S2 set to superuser conninfos.
# Head office's publications are checked before any store subscribes; each
# add-store copies the order-code key and waits for the initial copy.
fleet_link 'London Oxford Street' 'Leeds Trinity' || exit 1
# Login roles belong to a cluster: each store creates the logins of its own
# staff, whose records came from head office.
echo "SELECT icos.create_employee_login(e, :'verifier') FROM unnest(ARRAY[101, 102]) e" |
	psql -X -q -v ON_ERROR_STOP=1 -v verifier="$VERIFIER" "$S1" >/dev/null || exit 1
echo "SELECT icos.create_employee_login(301, :'verifier')" |
	psql -X -q -v ON_ERROR_STOP=1 -v verifier="$VERIFIER" "$S2" >/dev/null || exit 1
echo "Logins created at the stores for their staff (emp_101, emp_102 in London; emp_301 in Leeds)."
