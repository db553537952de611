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

/// How many subscriptions one unit (a street, department or community, or the city office's
/// city-wide scope) and the whole city may have: a token cannot make thousands, and what
/// every event is offered to stays bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Per scope unit.
    pub per_unit: usize,
    /// In the whole city.
    pub per_city: usize,
}

impl Default for Caps {
    fn default() -> Self {
        // A unit has a few work-chat groups and systems; a city of 64 communities and 93
        // departments, a few each.
        Caps {
            per_unit: 20,
            per_city: 1000,
        }
    }
}
