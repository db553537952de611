-- Partial indexes: a whistle just filed has no department, no dispatch and no closing time,
-- and an answered one no queue key or deadline, so none of them costs an entry in the
-- indexes on those. Each index still serves its queries: an equality or a range on a column
-- implies it is not null, and the queue queries say `queue_key IS NOT NULL`.
DROP INDEX whistles_by_department;
CREATE INDEX whistles_by_department ON whistles (department_id, status, id)
    WHERE department_id IS NOT NULL;
DROP INDEX whistles_queue;
CREATE INDEX whistles_queue ON whistles (queue_key) WHERE queue_key IS NOT NULL;
DROP INDEX whistles_department_queue;
CREATE INDEX whistles_department_queue ON whistles (department_id, queue_key)
    WHERE department_id IS NOT NULL AND queue_key IS NOT NULL;
DROP INDEX whistles_community_queue;
CREATE INDEX whistles_community_queue ON whistles (community_id, queue_key)
    WHERE queue_key IS NOT NULL;
DROP INDEX whistles_street_queue;
CREATE INDEX whistles_street_queue ON whistles (street_id, queue_key)
    WHERE queue_key IS NOT NULL;
DROP INDEX whistles_due;
CREATE INDEX whistles_due ON whistles (due_at) WHERE due_at IS NOT NULL;
DROP INDEX whistles_dispatched;
CREATE INDEX whistles_dispatched ON whistles (dispatched_at) WHERE dispatched_at IS NOT NULL;
DROP INDEX whistles_closed;
CREATE INDEX whistles_closed ON whistles (closed_at) WHERE closed_at IS NOT NULL;
DROP INDEX wishes_claimed;
CREATE INDEX wishes_claimed ON wishes (claimed_at) WHERE claimed_at IS NOT NULL;
DROP INDEX events_by_record;
CREATE INDEX events_by_record ON events (record_kind, record_id, seq)
    WHERE record_kind IS NOT NULL;
