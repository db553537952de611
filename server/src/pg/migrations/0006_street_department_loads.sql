-- Schema 6: each street's view of the departments' load, counting its own cases only
-- (keys::whistle_counts: dispatched, acknowledged, open = dispatched/acknowledged/resolved,
-- overdue), so a street dispatcher's stats show what opening a department shows. Status
-- codes are WhistleStatus::code: dispatched 1, acknowledged 2, resolved 3.
INSERT INTO counters (name, value)
    SELECT 'sdept/' || lpad(street_id::text, 10, '0') || '/' || lpad(department_id::text, 10, '0')
               || '/' || field, count(*)
    FROM (
        SELECT street_id, department_id, 'dispatched' AS field FROM whistles
            WHERE department_id IS NOT NULL AND status = 1
        UNION ALL
        SELECT street_id, department_id, 'acknowledged' FROM whistles
            WHERE department_id IS NOT NULL AND status = 2
        UNION ALL
        SELECT street_id, department_id, 'open' FROM whistles
            WHERE department_id IS NOT NULL AND status IN (1, 2, 3)
        UNION ALL
        SELECT street_id, department_id, 'overdue' FROM whistles
            WHERE department_id IS NOT NULL AND overdue
    ) AS loads
    GROUP BY street_id, department_id, field
ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value;
