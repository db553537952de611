//! Webhook subscriptions (`/api/v1/webhooks`): what a client asks for, and each subscription
//! with its health as the server answers it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::Scope;

/// How a subscription wants its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HookFormat {
    /// The event as the event stream carries it, signed per Standard Webhooks.
    #[default]
    Json,
    /// A 企业微信 group robot's markdown message.
    Wecom,
    /// A 钉钉 custom robot's markdown message.
    Dingtalk,
}

/// `POST /api/v1/webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// A name for people, e.g. 梅林街道值班群.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    /// Where to deliver: an `http` or `https` URL (a robot's URL as the chat app gives it).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub url: String,
    /// Event types (`whistle.dispatched`, `whistle.overdue`, …), or `*` for every one.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 64))]
    pub events: Vec<String>,
    /// What part of the city it sees; by default the token's own. Only the city office may
    /// name another.
    #[serde(default)]
    pub scope: Option<Scope>,
    /// `json` (the default), `wecom` or `dingtalk`.
    #[serde(default)]
    pub format: HookFormat,
    /// `json`: a `whsec_…` key to sign with (one is made when none is given); `dingtalk`: the
    /// robot's `SEC…` signing secret, when its security setting is 加签; `wecom`: none.
    #[serde(default)]
    pub secret: Option<String>,
}

/// Why a delivery failed, for a client to word in its own language (`last_error` and a
/// test's `detail` say it in English, with the technical cause).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeliveryFailure {
    /// No answer within the time limit.
    Timeout,
    /// No connection: refused, no such host, or its certificate not trusted.
    Connect,
    /// The receiver answered a status other than 2xx.
    Status {
        /// The status.
        status: u16,
    },
    /// A robot answered 200 with an error code (WeCom's or DingTalk's `errcode`).
    RobotRefused {
        /// The robot's `errcode`.
        errcode: i64,
    },
    /// This server cannot open the subscription's secret (it lacks the key it was sealed
    /// with), so it cannot sign.
    Secret,
    /// The receiver's address is inside the city's network (loopback, private, link-local
    /// …) and not on the server's allow-list: nothing was sent.
    AddressRefused,
    /// Anything else: the request could not be made, or the answer broke off.
    Other,
}

impl DeliveryFailure {
    /// The failure in plain English without anything the receiver said: what a caller who is
    /// not the city office is shown (a receiver's answer can be an internal page).
    pub fn plain(&self) -> String {
        match self {
            DeliveryFailure::Timeout => "no answer in time".into(),
            DeliveryFailure::Connect => "could not connect".into(),
            DeliveryFailure::Status { status } => format!("answered {status}"),
            DeliveryFailure::RobotRefused { errcode } => {
                format!("the robot refused it: {errcode}")
            }
            DeliveryFailure::Secret => "this server cannot open its secret to sign".into(),
            DeliveryFailure::AddressRefused => {
                "its address is inside the city's network and not allowed".into()
            }
            DeliveryFailure::Other => "the delivery failed".into(),
        }
    }
}

/// How a subscription's deliveries are going.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookHealth {
    /// The sequence number of the last event delivered or passed over (not for it); the
    /// next delivery is of an event after it.
    pub delivered_seq: u64,
    /// The log's last event when this was read.
    pub head_seq: u64,
    /// Events in the log after `delivered_seq` (some may not be for this subscription).
    pub lag: u64,
    /// When the last delivery was answered 2xx.
    pub last_delivered_at: Option<DateTime<Utc>>,
    /// Failed attempts in a row at the current event.
    pub failures: u32,
    /// Why the last attempt failed, in English with its cause.
    pub last_error: Option<String>,
    /// Why the last attempt failed, for a client to word.
    #[serde(default)]
    pub last_failure: Option<DeliveryFailure>,
    /// Since when deliveries have been failing.
    pub failing_since: Option<DateTime<Utc>>,
    /// When the next attempt is due, while failing.
    pub next_retry_at: Option<DateTime<Utc>>,
    /// Paused after a day of failures, until `resume`.
    pub paused: bool,
    /// When it paused.
    pub paused_at: Option<DateTime<Utc>>,
    /// Whether the token that owns it still stands: nothing goes out for a subscription
    /// whose owner was revoked or expired (its events wait) until another token of its scope
    /// adopts it (`POST …/adopt`) or it is deleted.
    #[serde(default)]
    pub owner: OwnerStanding,
}

/// How a subscription's owner (the token that made or adopted it) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OwnerStanding {
    /// The token is good: deliveries go out.
    #[default]
    Active,
    /// The token was revoked: deliveries wait for a new owner.
    Revoked,
    /// The token expired: deliveries wait for a new owner.
    Expired,
    /// No token of that name is known: deliveries wait for a new owner.
    Unknown,
}

impl OwnerStanding {
    /// Whether deliveries may go out.
    pub fn active(self) -> bool {
        self == OwnerStanding::Active
    }
}

/// `POST /api/v1/webhooks/{id}/adopt`: hand a subscription to a token of its scope.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AdoptWebhook {
    /// The token that becomes its owner, by name; by default the caller. Only the city
    /// office may name another token, which must be good and of the subscription's scope.
    #[serde(default)]
    pub owner: Option<String>,
}

/// A subscription as `GET /api/v1/webhooks` lists it: never its secret, and its URL with the
/// query's values hidden (a robot's URL carries its key there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookInfo {
    /// Id, e.g. `H3`.
    pub id: String,
    /// Name.
    pub name: String,
    /// The URL, e.g. `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`.
    pub url: String,
    /// Event types, or `*`.
    pub events: Vec<String>,
    /// What part of the city it sees.
    pub scope: Scope,
    /// Its format.
    pub format: HookFormat,
    /// Whether it has a secret (signing key or robot secret).
    pub signed: bool,
    /// The token that made it (or adopted it since): it owns the subscription, and nothing
    /// goes out while it is revoked or expired.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// How deliveries are going.
    pub health: WebhookHealth,
}

/// `201` to `POST /api/v1/webhooks`: the subscription, and its signing key shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedWebhook {
    /// The subscription.
    #[serde(flatten)]
    pub webhook: WebhookInfo,
    /// `json`: the `whsec_…` key a receiver verifies with; not shown again.
    pub secret: Option<String>,
}

/// `GET /api/v1/webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookList {
    /// The subscriptions this token may see, in id order.
    pub items: Vec<WebhookInfo>,
}

/// What came of `POST /api/v1/webhooks/{id}/test`: one test message, sent now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookTestResult {
    /// Whether the receiver answered 2xx (and a robot `errcode` 0).
    pub delivered: bool,
    /// The HTTP status, if an answer came.
    pub status: Option<u16>,
    /// What happened, in words.
    pub detail: String,
    /// Why it failed, for a client to word (none when delivered).
    #[serde(default)]
    pub failure: Option<DeliveryFailure>,
}
