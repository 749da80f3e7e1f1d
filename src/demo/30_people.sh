# Head office adds the employees: every employee logs in as themselves
# Run by src/demo/demo.sh (and test/soak/run.sh) with ICOS_PASSWORD set:
# `icos employee add` computes each SCRAM verifier on this side, so no
# password reaches the server.
fleet_employees_add <<'EOT' || exit 1
101|Priya Shah|10|agent
102|Tom Okafor|10|manager
201|Grace Lee|2|agent
202|Sam Patel|2|manager
301|Dan Murphy|12|agent
111|Website|1|agent
900|Head office admin|1|admin
EOT
[ -n "${ICOS_DEMO_QUIET:-}" ] || psql -X -q -P footer=off "$(fleet_dsn 0)" -c "
SELECT e.employee_id, e.full_name, e.position, s.name AS store, 'emp_' || e.employee_id AS login
FROM icos.employee e JOIN icos.store s USING (store_id) ORDER BY 1"
