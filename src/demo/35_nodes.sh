# Linking head office and the two store databases with icos node
# Run by src/demo/demo.sh with HQ, S1 and S2 set to superuser conninfos.
# Head office's publications are checked before any store subscribes; each
# add-store copies the order-code key and waits for the initial copy.
fleet_link 'London Oxford Street' 'Leeds Trinity' || exit 1
# Login roles belong to a cluster: each store creates the logins of its own
# staff, whose records came from head office.
fleet_logins 1 101 102 || exit 1
fleet_logins 2 301 || exit 1
echo "Logins created at the stores for their staff (emp_101, emp_102 in London; emp_301 in Leeds)."
