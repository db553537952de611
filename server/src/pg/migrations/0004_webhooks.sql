-- Webhook subscriptions (issue 17), beside the log rather than in it: a delivery's cursor
-- moves with every receiver's answer. Ids come from a sequence; gaps do not matter here.
CREATE TABLE webhooks (
    id bigserial PRIMARY KEY,
    json text NOT NULL
);
CREATE TABLE webhook_state (
    id bigint PRIMARY KEY REFERENCES webhooks (id) ON DELETE CASCADE,
    delivered bigint NOT NULL,
    json text NOT NULL
);
