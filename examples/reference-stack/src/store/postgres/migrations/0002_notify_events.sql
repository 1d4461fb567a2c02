-- The commit's notification carries the events it appended, when they fit.
--
-- With two coordinator replicas, a replica's streams learnt of the other's events by NOTIFY and then
-- read them from arp_events: 2.85 round trips per node run (bench/results.md). Now the payload is
-- JSON, {"schema", "seq" (the run's new last seq), "origin" (the committing store), "run_id",
-- "events": [the appended events' bodies, as committed]}, and a store keeps the events it is told
-- in its tail (src/store/postgres/tail.ts) for its streams, as it keeps its own.
--
-- pg_notify refuses a payload of 8000 bytes or more: "events" is left out when it would not fit
-- (the listener reads the table, as before), and "run_id" too when the run id is that long (every
-- follower of the schema is woken, as before). The event bodies are the text arp_events keeps,
-- byte for byte, so what the notification tells is what the table holds.
--
-- The function is the same as 0001's but for the notification. A replica of an older version reads
-- this payload as another schema's and ignores it (its waits fall back to the recheck): replicas
-- are upgraded together.

CREATE OR REPLACE FUNCTION arp_commit(change json, run_record text, node_records text[], event_bodies text[])
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  v_run_id  text := change->>'run_id';
  v_run     arp_runs%ROWTYPE;
  v_item    json;
  v_i       integer := 0;
  v_state   text;
  v_old     text;
  v_seq     integer;
  v_first   integer;
  v_closed  boolean;
  v_version integer;
  v_payload text;
  v_events  text;
BEGIN
  IF change->'create_run' IS NOT NULL THEN
    INSERT INTO arp_runs (run_id, record, version, state, deadline_ms)
    VALUES (v_run_id, run_record::json, 1, change->'create_run'->>'state',
            (change->'create_run'->>'deadline_ms')::bigint);
  END IF;

  SELECT * INTO v_run FROM arp_runs WHERE run_id = v_run_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'AR001', MESSAGE = 'not_found';
  END IF;
  IF v_run.closed AND coalesce(cardinality(event_bodies), 0) > 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'AR001', MESSAGE = 'closed';
  END IF;

  IF change->'update_run' IS NOT NULL THEN
    v_state := change->'update_run'->>'state';
    IF v_run.state IN ('succeeded', 'failed', 'canceled') AND v_state <> v_run.state THEN
      RAISE EXCEPTION USING ERRCODE = 'AR001', MESSAGE = 'ended';
    END IF;
    IF v_run.version <> (change->'update_run'->>'version')::integer THEN
      RAISE EXCEPTION USING ERRCODE = 'AR001', MESSAGE = 'conflict';
    END IF;
    UPDATE arp_runs
       SET record = run_record::json, version = version + 1, state = v_state,
           deadline_ms = (change->'update_run'->>'deadline_ms')::bigint
     WHERE run_id = v_run_id;
  END IF;

  FOR v_item IN SELECT * FROM json_array_elements(coalesce(change->'insert_node_runs', '[]')) LOOP
    v_i := v_i + 1;
    INSERT INTO arp_node_runs
      (node_run_id, run_id, parent_node_run_id, idempotency_key, record, version, state, deadline_ms, owner,
       created_ms)
    VALUES (
      v_item->>'node_run_id', v_run_id, v_item->>'parent_node_run_id', v_item->>'idempotency_key',
      node_records[v_i]::json, 1, v_item->>'state', (v_item->>'deadline_ms')::bigint, v_item->>'owner',
      (v_item->>'created_ms')::bigint
    );
  END LOOP;

  FOR v_item IN SELECT * FROM json_array_elements(coalesce(change->'update_node_runs', '[]')) LOOP
    v_i := v_i + 1;
    v_state := v_item->>'state';
    SELECT state, version INTO v_old, v_version FROM arp_node_runs
     WHERE node_run_id = v_item->>'node_run_id' AND run_id = v_run_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'AR001', MESSAGE = 'not_found';
    END IF;
    IF v_old IN ('succeeded', 'failed', 'canceled') AND v_state <> v_old THEN
      RAISE EXCEPTION USING ERRCODE = 'AR001', MESSAGE = 'ended';
    END IF;
    IF v_version <> (v_item->>'version')::integer THEN
      RAISE EXCEPTION USING ERRCODE = 'AR001', MESSAGE = 'conflict';
    END IF;
    UPDATE arp_node_runs
       SET record = node_records[v_i]::json, version = version + 1, state = v_state,
           deadline_ms = (v_item->>'deadline_ms')::bigint, owner = v_item->>'owner'
     WHERE node_run_id = v_item->>'node_run_id';
  END LOOP;

  v_seq := v_run.next_seq;
  v_first := v_seq;
  v_closed := v_run.closed;
  FOR v_i IN 1 .. coalesce(cardinality(event_bodies), 0) LOOP
    INSERT INTO arp_events (run_id, seq, body) VALUES (v_run_id, v_seq, event_bodies[v_i]::json);
    v_seq := v_seq + 1;
    IF change->'event_types'->>(v_i - 1) = 'run_completed' THEN
      v_closed := true;
    END IF;
  END LOOP;
  IF v_seq > v_first THEN
    UPDATE arp_runs SET next_seq = v_seq, closed = v_closed WHERE run_id = v_run_id;
    -- Sent on commit, to every replica's listener (see the header). The table stays the truth; a
    -- listener that missed this reads the log anyway.
    v_payload := '{"schema":' || to_json(current_schema())::text || ',"seq":' || (v_seq - 1)
      || ',"origin":' || to_json(coalesce(change->>'origin', '-'))::text;
    IF octet_length(v_run_id) <= 7000 THEN
      v_payload := v_payload || ',"run_id":' || to_json(v_run_id)::text;
      v_events := ',"events":[' || array_to_string(event_bodies, ',') || ']';
      IF octet_length(v_payload) + octet_length(v_events) < 7999 THEN
        v_payload := v_payload || v_events;
      END IF;
    END IF;
    PERFORM pg_notify('arp_run_events', v_payload || '}');
  END IF;
  RETURN json_build_object('ok', true, 'first_seq', v_first);
EXCEPTION
  WHEN unique_violation THEN
    RETURN json_build_object('ok', false, 'reason', 'exists');
  WHEN SQLSTATE 'AR001' THEN
    RETURN json_build_object('ok', false, 'reason', SQLERRM);
END;
$$;
