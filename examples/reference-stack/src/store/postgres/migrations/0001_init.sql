-- The coordinator's store (src/store/interface.ts) on PostgreSQL: one schema holds runs, node runs,
-- the event logs and the replicas' heartbeats. Records are kept whole as `json` (not `jsonb`: `json`
-- keeps any JSON string, `\u0000` included, byte for byte); the columns beside them are what the
-- queries and the constraints need.

CREATE TABLE arp_runs (
  run_id      text PRIMARY KEY,
  record      json    NOT NULL,
  version     integer NOT NULL,
  state       text    NOT NULL,
  deadline_ms bigint,
  -- The seq the next appended event gets: the log is 0 .. next_seq - 1, with no gap.
  next_seq    integer NOT NULL DEFAULT 0,
  -- The log ends with run_completed: nothing more is appended.
  closed      boolean NOT NULL DEFAULT false
);
CREATE INDEX arp_runs_overdue ON arp_runs (deadline_ms)
  WHERE deadline_ms IS NOT NULL AND state IN ('queued', 'running');

CREATE TABLE arp_node_runs (
  node_run_id        text PRIMARY KEY,
  run_id             text    NOT NULL REFERENCES arp_runs (run_id),
  -- Creation order across the whole store (listNodeRuns answers in it).
  position           bigserial,
  -- '' for the root: keys are unique per (run, parent), and the root has no parent.
  parent_node_run_id text    NOT NULL,
  idempotency_key    text,
  record             json    NOT NULL,
  version            integer NOT NULL,
  state              text    NOT NULL,
  deadline_ms        bigint,
  owner              text,
  -- When it was created (epoch ms): a queued one that stays queued long was never dispatched.
  created_ms         bigint  NOT NULL,
  -- Two replicas inserting the same key at the same moment: the database lets one through.
  CONSTRAINT arp_node_runs_key UNIQUE (run_id, parent_node_run_id, idempotency_key)
);
CREATE INDEX arp_node_runs_by_run ON arp_node_runs (run_id, position);
CREATE INDEX arp_node_runs_overdue ON arp_node_runs (deadline_ms)
  WHERE deadline_ms IS NOT NULL AND state IN ('queued', 'assigned', 'running');
CREATE INDEX arp_node_runs_queued ON arp_node_runs (created_ms) WHERE state = 'queued';
CREATE INDEX arp_node_runs_owned ON arp_node_runs (owner)
  WHERE owner IS NOT NULL AND state IN ('queued', 'assigned', 'running');

-- The event logs: (run_id, seq) is the key, so replay from a seq is one index range scan. `body` is
-- the event without run_id and seq (they are its key).
CREATE TABLE arp_events (
  run_id text    NOT NULL REFERENCES arp_runs (run_id),
  seq    integer NOT NULL,
  body   json    NOT NULL,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE arp_replicas (
  replica_id     text PRIMARY KEY,
  alive_until_ms bigint NOT NULL
);

-- One change (src/store/interface.ts: Change) applied whole, in one statement and so in one round
-- trip: the run's row is locked first, so the changes of one run are applied one at a time, in
-- whatever replica they come from, and the seqs they append have no gap. A refusal raises inside
-- the block, which undoes everything the change did, and answers its reason.
--
-- `change` holds what the function reads (ids, versions, states, deadlines, owners, event types);
-- the records and event bodies come as text beside it, cast to `json` without being parsed further:
-- the database never de-escapes their strings (it cannot hold a `\u0000` as text).
--   change: { run_id, origin (the committing store's id), create_run?: {state, deadline_ms}, update_run?: {version, state, deadline_ms},
--             insert_node_runs?: [{node_run_id, parent_node_run_id, idempotency_key, state, deadline_ms, owner}],
--             update_node_runs?: [{node_run_id, version, state, deadline_ms, owner}], event_types?: [type] }
--   run_record: the created or updated run's record; node_records: the inserted, then the updated
--   node runs' records; event_bodies: the events, without run_id and seq.
CREATE FUNCTION arp_commit(change json, run_record text, node_records text[], event_bodies text[])
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
    -- Sent on commit, to every replica's listener: the run and its new last seq. The table stays the
    -- truth; a listener that missed this reads the log anyway.
    -- (A run id too long for a notification wakes every follower of the schema instead.)
    -- `origin` names the store that committed: it wakes its own followers itself.
    PERFORM pg_notify('arp_run_events', current_schema() || ' ' || (v_seq - 1) || ' '
      || coalesce(change->>'origin', '-') || ' '
      || CASE WHEN octet_length(v_run_id) <= 7000 THEN v_run_id ELSE '' END);
  END IF;
  RETURN json_build_object('ok', true, 'first_seq', v_first);
EXCEPTION
  WHEN unique_violation THEN
    RETURN json_build_object('ok', false, 'reason', 'exists');
  WHEN SQLSTATE 'AR001' THEN
    RETURN json_build_object('ok', false, 'reason', SQLERRM);
END;
$$;
