//! `/api/v1/webhooks`: subscriptions that push events to a receiver or a work-chat robot. The
//! city office subscribes for any part of the city; a street, department or community token
//! for its own, and sees and manages only its own scope's subscriptions.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use shaozi_shared::api::{
    AdoptWebhook, CreatedWebhook, DeliveryFailure, HookFormat, NewWebhook, OwnerStanding,
    WebhookHealth, WebhookInfo, WebhookList, WebhookTestResult,
};
use shaozi_shared::text::{self, required};
use shaozi_shared::{EventKind, Principal, Scope};

use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::notify::message::PhoneText;
use crate::notify::send::{check_url, shown_url, Sent, Target};
use crate::notify::sign::WebhookSecret;
use crate::storage::{blocking, HookChange, HookState, StoredHook};
use crate::AppState;

/// The longest URL a subscription may name.
const URL_CHARS: usize = 2000;
/// Most event types one subscription lists.
const MOST_EVENTS: usize = 64;

fn invalid(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::invalid(Some(field.into()), detail)
}

/// `POST /api/v1/webhooks`.
#[utoipa::path(post, path = "/webhooks", tag = "webhooks", summary = "Subscribe a receiver or a work-chat robot to events",
    description = "The city office subscribes for any part of the city (`scope`); a street, department or community token \
        only for its own. `json` deliveries are signed per Standard Webhooks with the `whsec_…` key in the answer, shown this once.",
    request_body = NewWebhook,
    responses((status = 201, description = "The subscription; deliveries start with the next event", body = CreatedWebhook)))]
pub async fn create(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiJson(b): ApiJson<NewWebhook>,
) -> Result<Response, ApiError> {
    let scope = who
        .subscription_scope(b.scope)
        .map_err(ApiError::forbidden)?;
    let name = required("name", &b.name, text::NAME)?;
    if b.url.chars().count() > URL_CHARS {
        return Err(invalid("url", format!("at most {URL_CHARS} characters")));
    }
    let url = check_url(b.url.trim()).map_err(|e| invalid("url", e))?;
    // An internal address written in the URL is refused now; a name is checked each time it
    // is resolved for a delivery (and refused now when it resolves inside already).
    if let Some(d) = &st.deliveries {
        let policy = d.sender().policy();
        policy
            .check_url(&url)
            .map_err(|e| invalid("url", e.to_string()))?;
        if let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) {
            let looked = tokio::time::timeout(
                std::time::Duration::from_secs(2),
                policy.resolve(host, port),
            )
            .await;
            if let Ok(Err(e)) = looked {
                if crate::notify::addr::refusal(e.as_ref()).is_some() {
                    return Err(invalid("url", e.to_string()));
                }
            }
        }
    }
    let events = event_types(&b.events)?;
    let (secret, shown) = match (b.format, b.secret.as_deref().map(str::trim)) {
        (HookFormat::Json, None | Some("")) => {
            let key = WebhookSecret::generate().encoded();
            (Some(key.clone()), Some(key))
        }
        (HookFormat::Json, Some(s)) => {
            let key = WebhookSecret::parse(s).map_err(|e| invalid("secret", e.to_string()))?;
            (Some(key.encoded()), Some(key.encoded()))
        }
        (HookFormat::Wecom, None | Some("")) => (None, None),
        (HookFormat::Wecom, Some(_)) => {
            return Err(invalid(
                "secret",
                "a WeCom (企业微信) group robot has no secret: its key is in the URL",
            ))
        }
        (HookFormat::Dingtalk, None | Some("")) => (None, None),
        (HookFormat::Dingtalk, Some(s))
            if s.starts_with("SEC") && !s.contains(char::is_control) =>
        {
            (Some(s.to_string()), None)
        }
        (HookFormat::Dingtalk, Some(_)) => {
            return Err(invalid(
                "secret",
                "a DingTalk (钉钉) robot's secret is the SEC… string its 加签 setting shows",
            ))
        }
    };
    let exists = match scope {
        Scope::City => true,
        Scope::Street(s) => st.store.streets()?.iter().any(|x| x.id == s),
        Scope::Department(d) => st.store.departments()?.iter().any(|x| x.id == d),
        Scope::Community(c) => st.store.community(c)?.is_some(),
    };
    if !exists {
        return Err(invalid("scope", "no such unit in the directory"));
    }
    let mut hook = StoredHook {
        id: 0,
        name,
        url: b.url.trim().to_string(),
        events,
        scope,
        as_admin: who.subscriber("", scope).role == shaozi_shared::Role::Admin,
        format: b.format,
        secret: secret.map(|s| st.vault.seal(&s)),
        created_by: who.name.clone(),
        created_at: st.clock.now(),
        resumed_at: None,
    };
    // From the next event on: what happened before is in the log for whoever wants it.
    let head = st.writer.durable_seq().max(st.store.last_seq()?);
    let state = HookState {
        delivered: head,
        ..HookState::default()
    };
    // Counted and made one at a time (on this server: with several, a few at once may pass
    // the count together).
    let creating = st.hook_creating.lock().await;
    let (hooks, first, caps) = (st.hooks.clone(), state.clone(), st.webhook_caps);
    let hook = blocking(move || {
        let all = hooks.hooks()?;
        let unit = all.iter().filter(|h| h.scope == scope).count();
        if unit >= caps.per_unit {
            return Ok(Err(ApiError::conflict(format!(
                "this unit already has {unit} webhook subscriptions, the most one unit may have \
                 (the server's --webhook-max-per-unit); delete one first"
            ))));
        }
        if all.len() >= caps.per_city {
            return Ok(Err(ApiError::conflict(format!(
                "the city already has {} webhook subscriptions, the most it may have (the \
                 server's --webhook-max); delete one first",
                all.len()
            ))));
        }
        hooks.create_hook(&mut hook, &first)?;
        Ok(Ok(hook))
    })
    .await??;
    drop(creating);
    tracing::info!(webhook = %hook.label(), url = %shown_url(&hook.url), by = %who.name, "webhook created");
    if let Some(d) = &st.deliveries {
        d.poke();
    }
    let body = CreatedWebhook {
        webhook: info(
            &hook,
            &state,
            head,
            st.tokens.standing(&hook.created_by),
            &who,
        ),
        secret: shown,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The event types asked for: `*` or known names, each once.
fn event_types(asked: &[String]) -> Result<Vec<String>, ApiError> {
    if asked.is_empty() {
        return Err(invalid(
            "events",
            "name at least one event type, such as whistle.overdue, or * for every one",
        ));
    }
    if asked.len() > MOST_EVENTS {
        return Err(invalid(
            "events",
            format!("at most {MOST_EVENTS} types; use * for every one"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for e in asked {
        let e = e.trim();
        if e != "*" && !EventKind::ALL.iter().any(|k| k.as_str() == e) {
            return Err(invalid(
                "events",
                format!(
                    "{e:?} is not an event type; they are * or one of {}",
                    EventKind::ALL
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if !out.iter().any(|x| x == e) {
            out.push(e.to_string());
        }
    }
    Ok(out)
}

/// A subscription as `who` is shown it: the receiver's own words (its answer, which may be an
/// internal page) only to the city office; every other token sees the status and the kind.
fn info(
    hook: &StoredHook,
    state: &HookState,
    head: u64,
    owner: OwnerStanding,
    who: &Principal,
) -> WebhookInfo {
    let last_error = if who.role == shaozi_shared::Role::Admin {
        state.last_error.clone()
    } else {
        match (&state.last_error, state.last_failure) {
            (Some(_), Some(f)) => Some(f.plain()),
            (Some(_), None) => Some("the delivery failed".into()),
            (None, _) => None,
        }
    };
    WebhookInfo {
        id: hook.label(),
        name: hook.name.clone(),
        url: shown_url(&hook.url),
        events: hook.events.clone(),
        scope: hook.scope,
        format: hook.format,
        signed: hook.secret.is_some(),
        created_by: hook.created_by.clone(),
        created_at: hook.created_at,
        health: WebhookHealth {
            delivered_seq: state.delivered,
            head_seq: head.max(state.delivered),
            lag: head.saturating_sub(state.delivered),
            last_delivered_at: state.last_delivered_at,
            failures: state.failures,
            last_error,
            last_failure: state.last_failure,
            failing_since: state.failing_since,
            next_retry_at: state.next_retry_at,
            paused: state.paused(hook),
            paused_at: state.paused_at.filter(|_| state.paused(hook)),
            owner,
        },
    }
}

/// A subscription with its health, as this server knows it best.
pub(crate) async fn described(
    st: &AppState,
    who: &Principal,
    hook: StoredHook,
) -> Result<WebhookInfo, ApiError> {
    let live = st.deliveries.as_ref().and_then(|d| d.live_state(hook.id));
    let state = match live {
        Some(s) => s,
        None => {
            let (hooks, id) = (st.hooks.clone(), hook.id);
            blocking(move || hooks.hook_state(id))
                .await?
                .unwrap_or_default()
        }
    };
    let head = st.writer.durable_seq();
    let owner = st.tokens.standing(&hook.created_by);
    Ok(info(&hook, &state, head, owner, who))
}

/// The subscription `id` names, if this token may see it; else "not found", word for word as
/// for one that does not exist.
async fn visible(st: &AppState, who: &Principal, id: &str) -> Result<StoredHook, ApiError> {
    // A viewer is told it may not, before anything is looked up.
    who.subscription_scope(None).map_err(ApiError::forbidden)?;
    let missing = || ApiError::not_found(format!("there is no webhook {id}"));
    let n: u64 = id
        .strip_prefix(['H', 'h'])
        .unwrap_or(id)
        .parse()
        .map_err(|_| missing())?;
    let hooks = st.hooks.clone();
    let hook = blocking(move || hooks.hook(n)).await?.ok_or_else(missing)?;
    if !who.manages_subscription(hook.scope) {
        return Err(missing());
    }
    Ok(hook)
}

/// `GET /api/v1/webhooks`.
#[utoipa::path(get, path = "/webhooks", tag = "webhooks", summary = "Subscriptions with their health",
    description = "The city office sees every one; another token those of its own scope.",
    responses((status = 200, description = "Subscriptions in id order", body = WebhookList)))]
pub async fn list(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<WebhookList>, ApiError> {
    who.subscription_scope(None).map_err(ApiError::forbidden)?;
    let hooks = st.hooks.clone();
    let all = blocking(move || hooks.hooks()).await?;
    let mut items = Vec::new();
    for h in all
        .into_iter()
        .filter(|h| who.manages_subscription(h.scope))
    {
        items.push(described(&st, &who, h).await?);
    }
    Ok(Json(WebhookList { items }))
}

/// `GET /api/v1/webhooks/{id}`.
#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", summary = "One subscription with its health",
    params(("id" = String, Path, description = "e.g. H3")),
    responses((status = 200, description = "The subscription", body = WebhookInfo)))]
pub async fn get_one(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<WebhookInfo>, ApiError> {
    let hook = visible(&st, &who, &id).await?;
    Ok(Json(described(&st, &who, hook).await?))
}

/// `DELETE /api/v1/webhooks/{id}`.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", summary = "Stop a subscription",
    params(("id" = String, Path, description = "e.g. H3")),
    responses((status = 204, description = "Deleted; nothing more is sent (with several servers, one already sending may finish within 2 s)")))]
pub async fn delete(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let hook = visible(&st, &who, &id).await?;
    let (hooks, n) = (st.hooks.clone(), hook.id);
    if !blocking(move || hooks.delete_hook(n)).await? {
        return Err(ApiError::not_found(format!("there is no webhook {id}")));
    }
    tracing::info!(webhook = %hook.label(), by = %who.name, "webhook deleted");
    if let Some(d) = &st.deliveries {
        d.forget(hook.id);
        d.poke();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/webhooks/{id}/resume`.
#[utoipa::path(post, path = "/webhooks/{id}/resume", tag = "webhooks", summary = "Resume a paused subscription",
    description = "Delivery starts again at the event it stopped on, at once. Resuming one that is not paused changes nothing.",
    params(("id" = String, Path, description = "e.g. H3")),
    responses((status = 200, description = "The subscription", body = WebhookInfo)))]
pub async fn resume(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<WebhookInfo>, ApiError> {
    let hook = visible(&st, &who, &id).await?;
    let hook = changed(&st, hook.id, &id, HookChange::Resumed(st.clock.now())).await?;
    tracing::info!(webhook = %hook.label(), by = %who.name, "webhook resumed");
    Ok(Json(described(&st, &who, hook).await?))
}

/// Writes a change to a subscription and tells this server's deliveries at once.
async fn changed(
    st: &AppState,
    n: u64,
    id: &str,
    change: HookChange,
) -> Result<StoredHook, ApiError> {
    let hooks = st.hooks.clone();
    let hook = blocking(move || hooks.change_hook(n, &change))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no webhook {id}")))?;
    if let Some(d) = &st.deliveries {
        d.poke();
    }
    Ok(hook)
}

/// `POST /api/v1/webhooks/{id}/adopt`.
#[utoipa::path(post, path = "/webhooks/{id}/adopt", tag = "webhooks", summary = "Hand a subscription to a token of its scope",
    description = "A subscription belongs to the token that made it: once that token is revoked or expires, nothing more \
        goes out (`health.owner` says why) and its events wait. A token that manages the subscription's scope adopts it for \
        itself; the city office may name another good token of that scope (`owner`). Deliveries go on from where they stopped.",
    params(("id" = String, Path, description = "e.g. H3")),
    request_body = AdoptWebhook,
    responses((status = 200, description = "The subscription under its new owner", body = WebhookInfo)))]
pub async fn adopt(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AdoptWebhook>,
) -> Result<Json<WebhookInfo>, ApiError> {
    let hook = visible(&st, &who, &id).await?;
    let owner = match b.owner.as_deref().map(str::trim) {
        None | Some("") => who.clone(),
        Some(name) if name == who.name => who.clone(),
        Some(name) => {
            if who.role != shaozi_shared::Role::Admin {
                return Err(ApiError::forbidden(
                    "only the city office may hand a subscription to another token; adopt it \
                     yourself by leaving out owner",
                ));
            }
            let p = st.tokens.named(name).ok_or_else(|| {
                invalid(
                    "owner",
                    format!("there is no good token named {name} (revoked, expired or unknown)"),
                )
            })?;
            if !p.manages_subscription(hook.scope) || p.role == shaozi_shared::Role::Viewer {
                return Err(invalid(
                    "owner",
                    format!("the token {name} does not manage this subscription's scope"),
                ));
            }
            p
        }
    };
    let change = HookChange::Adopted {
        as_admin: owner.subscriber("", hook.scope).role == shaozi_shared::Role::Admin,
        owner: owner.name.clone(),
    };
    let before = hook.created_by.clone();
    let hook = changed(&st, hook.id, &id, change).await?;
    tracing::info!(webhook = %hook.label(), from = %before, to = %hook.created_by, by = %who.name, "webhook adopted");
    Ok(Json(described(&st, &who, hook).await?))
}

/// `POST /api/v1/webhooks/{id}/test`.
#[utoipa::path(post, path = "/webhooks/{id}/test", tag = "webhooks", summary = "Send one test message now",
    description = "A `webhook.test` event (`webhook-id` 0) for `json`, a 【测试】 message for a robot; the answer says how the \
        receiver answered. It does not touch the subscription's cursor.",
    params(("id" = String, Path, description = "e.g. H3")),
    responses((status = 200, description = "What the receiver said", body = WebhookTestResult)))]
pub async fn test(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<WebhookTestResult>, ApiError> {
    let hook = visible(&st, &who, &id).await?;
    let Some(deliveries) = &st.deliveries else {
        return Err(ApiError::unavailable(
            "webhook delivery is off on this server",
        ));
    };
    let now = st.clock.now();
    let secret = match hook.secret.as_deref().map(|s| st.vault.open(s)).transpose() {
        Ok(s) => s,
        Err(e) => {
            return Ok(Json(WebhookTestResult {
                delivered: false,
                status: None,
                detail: e.to_string(),
                failure: Some(DeliveryFailure::Secret),
            }))
        }
    };
    let key = match (hook.format, secret.as_deref()) {
        (HookFormat::Json, Some(s)) => Some(WebhookSecret::parse(s).map_err(|e| {
            ApiError::internal(&format!(
                "the stored key of {} does not read: {e}",
                hook.label()
            ))
        })?),
        _ => None,
    };
    let text = PhoneText {
        title: "【测试】shaozi 哨子".into(),
        detail: format!("{} · {} · 已连通", hook.label(), hook.name),
        note: None,
    };
    let (body, target) = match hook.format {
        HookFormat::Json => {
            let Some(key) = key.as_ref() else {
                return Err(ApiError::internal(&"a json webhook without its key"));
            };
            let body = serde_json::json!({
                "type": "webhook.test",
                "at": now,
                "webhook": hook.label(),
                "name": hook.name,
            });
            (body, Target::Json(key))
        }
        HookFormat::Wecom => (text.wecom(), Target::Wecom),
        HookFormat::Dingtalk => (text.dingtalk(), Target::Dingtalk(secret.as_deref())),
    };
    let body = serde_json::to_vec(&body).map_err(|e| ApiError::internal(&e))?;
    let sent = deliveries
        .sender()
        .send(&hook.url, 0, body, target, now)
        .await;
    Ok(Json(match sent {
        Sent::Delivered => WebhookTestResult {
            delivered: true,
            status: None,
            detail: "delivered: the receiver answered 2xx".into(),
            failure: None,
        },
        Sent::Failed { reason, why } => WebhookTestResult {
            delivered: false,
            status: match reason {
                DeliveryFailure::Status { status } => Some(status),
                DeliveryFailure::RobotRefused { .. } => Some(200),
                _ => None,
            },
            // What the receiver answered is for the city office alone.
            detail: if who.role == shaozi_shared::Role::Admin {
                why
            } else {
                reason.plain()
            },
            failure: Some(reason),
        },
    }))
}
