//! Reaching people who are not watching (issue 17): what goes out for an event, how it is
//! signed and how it is sent. `sign` signs a `json` delivery per the Standard Webhooks
//! specification and builds DingTalk's signed robot URL; `message` words an event for a phone,
//! Chinese first, as the WeCom (企业微信) and DingTalk (钉钉) group robots take it; `send`
//! delivers one within limits a receiver cannot stretch and says when to try again.
//!
//! `addr` keeps deliveries out of the city's own network unless the operator allows it.
//! `deliver` runs one task per subscription from its durable cursor; `vault` seals their
//! secrets at rest. Subscriptions are kept
//! by the store (`crate::storage::HookStore`) and managed at `/api/v1/webhooks`
//! (`crate::routes::webhooks`).

pub mod addr;
pub mod deliver;
pub mod message;
pub mod send;
pub mod sign;
pub mod vault;
