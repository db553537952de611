//! Reaching people who are not watching (issue 17): what goes out for an event, how it is
//! signed and how it is sent. `sign` signs a `json` delivery per the Standard Webhooks
//! specification and builds DingTalk's signed robot URL; `message` words an event for a phone,
//! Chinese first, as the WeCom (企业微信) and DingTalk (钉钉) group robots take it; `send`
//! delivers one within limits a receiver cannot stretch and says when to try again.
//!
//! Subscriptions, their durable cursors and the delivery loop come next; these parts are
//! tested on their own (golden bodies, an independent verifier of the signature, the vendor's
//! own signing example, real receivers on 127.0.0.1).

pub mod message;
pub mod send;
pub mod sign;

/// How a subscription wants its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// The event as the event stream carries it, signed per Standard Webhooks.
    Json,
    /// A 企业微信 group robot's markdown message.
    Wecom,
    /// A 钉钉 custom robot's markdown message.
    Dingtalk,
}
