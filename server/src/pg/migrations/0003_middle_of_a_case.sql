-- Schema 3: the middle of a case. due_at becomes when the clock next looks at a whistle (a
-- due-soon warning, a deadline, or the confirmation deadline of a fix); deadline_at is the
-- pending deadline itself, for the due-soon list; source is where the case came from.
ALTER TABLE whistles ADD COLUMN deadline_at timestamptz;
ALTER TABLE whistles ADD COLUMN source text NOT NULL DEFAULT 'community';
UPDATE whistles SET deadline_at = due_at WHERE due_at IS NOT NULL;
CREATE INDEX whistles_deadline ON whistles (deadline_at) WHERE deadline_at IS NOT NULL;
-- Most cases come from communities; the others are listed through their own small index.
CREATE INDEX whistles_by_source ON whistles (source, status, id) WHERE source <> 'community';

-- The queue's first byte was overdue (0) or not (1); it is now returned (0), overdue (1) or
-- the rest (2), and no earlier whistle is returned.
UPDATE whistles SET queue_key = set_byte(queue_key, 0, get_byte(queue_key, 0) + 1)
    WHERE queue_key IS NOT NULL;

-- Totals per source: every earlier whistle came from a community.
INSERT INTO counters (name, value)
    SELECT 'src/community', count(*) FROM whistles HAVING count(*) > 0;
INSERT INTO counters (name, value)
    SELECT 'srct/' || lpad(street_id::text, 10, '0') || '/community', count(*)
    FROM whistles GROUP BY street_id;
INSERT INTO counters (name, value)
    SELECT 'srcc/' || lpad(community_id::text, 10, '0') || '/community', count(*)
    FROM whistles GROUP BY community_id;
INSERT INTO counters (name, value)
    SELECT 'srcd/' || lpad(department_id::text, 10, '0') || '/community', count(*)
    FROM whistles WHERE department_id IS NOT NULL GROUP BY department_id;
