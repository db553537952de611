-- Schema 5: whistles counted per status, city-wide, for /metrics. The status column holds
-- WhistleStatus::code (the order of WhistleStatus::ALL); schema.rs's test checks this list.
INSERT INTO counters (name, value)
    SELECT 'status/' || (ARRAY['new', 'dispatched', 'acknowledged', 'resolved', 'closed',
                               'rejected', 'returned'])[status + 1], count(*)
    FROM whistles GROUP BY status;
