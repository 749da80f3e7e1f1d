-- Benchmark helpers, loaded into the bench database by test/bench/run.sh.
-- Cases are measured side by side in one session, interleaved round by
-- round, so that a noisy machine slows every case alike; we report medians
-- and ratios, never absolute claims.
CREATE SCHEMA IF NOT EXISTS bench;

-- bench.compare(cases, rounds): cases is a jsonb object {"name": "SQL", ...};
-- every round runs each statement once (in the order given); returns the
-- median milliseconds of each case.
CREATE OR REPLACE FUNCTION bench.compare(cases jsonb, rounds int DEFAULT 5)
RETURNS TABLE(name text, median_ms numeric, min_ms numeric, max_ms numeric)
LANGUAGE plpgsql AS $$
DECLARE
	r int;
	c record;
	t0 timestamptz;
BEGIN
	CREATE TEMP TABLE IF NOT EXISTS bench_times(name text, ms numeric) ON COMMIT DROP;
	TRUNCATE bench_times;
	FOR r IN 1..rounds LOOP
		FOR c IN SELECT key, value #>> '{}' AS q FROM jsonb_each(cases) LOOP
			t0 := clock_timestamp();
			EXECUTE c.q;
			INSERT INTO bench_times
				VALUES (c.key, extract(epoch FROM clock_timestamp() - t0) * 1000);
		END LOOP;
	END LOOP;
	RETURN QUERY
		SELECT t.name,
			   round((percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ms))::numeric, 1),
			   round(min(t.ms), 1), round(max(t.ms), 1)
		FROM bench_times t GROUP BY t.name;
END;
$$;
