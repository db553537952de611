//! Service requests: filing one (a whistle for the api_key's community), finding them, one by
//! id or token, and the updates feed that shows residents what happened.

use std::collections::HashMap;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};

use shaozi_shared::api::{NewWhistle, Reporter};
use shaozi_shared::event::Public;
use shaozi_shared::questions::{self, Answers};
use shaozi_shared::{
    Category, DepartmentId, Event, Scope, Urgency, Whistle, WhistleId, WhistleStatus,
};

use super::render::{render, Fmt, V};
use super::{agencies, Form, Open311Error, Result};
use crate::error::ApiError;
use crate::guard::Client;
use crate::storage::FiledPage;
use crate::writer::{Command, Reply};
use crate::AppState;

/// The longest window a search may span, as the spec allows.
const MAX_SPAN_DAYS: i64 = 90;
/// Longest page: what one search may hold in memory while it is rendered.
const MAX_PAGE_SIZE: usize = 200;

fn closed(s: WhistleStatus) -> bool {
    matches!(s, WhistleStatus::Closed | WhistleStatus::Rejected)
}

fn status_word(s: WhistleStatus) -> &'static str {
    if closed(s) {
        "closed"
    } else {
        "open"
    }
}

fn category<'a>(st: &'a AppState, code: &str) -> Option<&'a Category> {
    st.rules.categories.iter().find(|c| c.code == code)
}

/// A whistle as GeoReport's service request. Who reported it is never shown.
fn request(st: &AppState, w: &Whistle, agencies: &HashMap<DepartmentId, String>) -> V {
    let name = category(st, &w.category).map(|c| c.name_zh.clone());
    // A joint call still at work says how many of the called departments came; never who.
    let (came, called) = w.reported();
    let joint = (called > 1
        && matches!(
            w.status,
            WhistleStatus::Dispatched | WhistleStatus::Acknowledged
        ))
    .then(|| format!("{came}/{called} 个部门已到场 / {came} of {called} departments on site"));
    let notes = w
        .reply
        .clone()
        .or_else(|| w.reject_reason.clone())
        .or(joint);
    V::Obj(vec![
        ("service_request_id", V::S(w.id.to_string())),
        ("status", V::S(status_word(w.status).into())),
        ("status_notes", V::opt(notes)),
        ("service_name", V::opt(name)),
        ("service_code", V::S(w.category.clone())),
        ("description", V::S(w.description.clone())),
        (
            "agency_responsible",
            V::opt(w.department_id.and_then(|d| agencies.get(&d).cloned())),
        ),
        ("service_notice", V::Null),
        ("requested_datetime", V::time(w.created_at)),
        ("updated_datetime", V::time(w.updated_at)),
        ("expected_datetime", V::time(w.resolve_by)),
        ("address", V::opt(w.address.clone())),
        ("address_id", V::Null),
        ("zipcode", V::Null),
        ("lat", w.lat.map_or(V::Null, V::N)),
        ("long", w.long.map_or(V::Null, V::N)),
        ("media_url", V::opt(w.media_url.clone())),
    ])
}

fn requests(fmt: Fmt, items: Vec<V>) -> Response {
    render(
        fmt,
        StatusCode::OK,
        "service_requests",
        &V::List("request", items),
    )
}

fn time_param(form: &Form, k: &str, fmt: Fmt) -> Result<Option<DateTime<Utc>>> {
    form.get(k)
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    Open311Error::bad(
                        fmt,
                        format!("{k} must be a time with its zone, e.g. 2026-11-27T08:00:00+08:00; got {v:?}"),
                    )
                })
        })
        .transpose()
}

/// `[start_date, end_date)`: by default the last 90 days; never wider.
fn window(st: &AppState, form: &Form, fmt: Fmt) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let span = Duration::days(MAX_SPAN_DAYS);
    let start = time_param(form, "start_date", fmt)?;
    let end = time_param(form, "end_date", fmt)?;
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s + span),
        (None, Some(e)) => (e - span, e),
        (None, None) => {
            // Up to a second ahead, so what was filed this very moment is included.
            let end = st.clock.now() + Duration::seconds(1);
            (end - span, end)
        }
    };
    if start >= end {
        return Err(Open311Error::bad(fmt, "start_date must be before end_date"));
    }
    if end - start > span {
        return Err(Open311Error::bad(
            fmt,
            format!("start_date to end_date may span at most {MAX_SPAN_DAYS} days"),
        ));
    }
    Ok((start, end))
}

/// `page` (from 1) and `page_size` (default 100, at most 1000).
fn paging(form: &Form, fmt: Fmt) -> Result<(usize, usize)> {
    let num = |k: &str, default: usize| -> Result<usize> {
        match form.get(k) {
            None => Ok(default),
            Some(v) => v.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                Open311Error::bad(fmt, format!("{k} must be a whole number from 1; got {v:?}"))
            }),
        }
    };
    let page = num("page", 1)?;
    let size = num("page_size", 100)?;
    if size > MAX_PAGE_SIZE {
        return Err(Open311Error::bad(
            fmt,
            format!("page_size may be at most {MAX_PAGE_SIZE}"),
        ));
    }
    let skip = (page - 1)
        .checked_mul(size)
        .ok_or_else(|| Open311Error::bad(fmt, "page is too large"))?;
    Ok((skip, size))
}

fn internal(fmt: Fmt, e: impl std::fmt::Display) -> Open311Error {
    tracing::error!(error = %e, "open311 read failed");
    Open311Error::from_api(fmt, ApiError::internal(&e))
}

/// Runs a heavy public read when its turn comes, on the blocking pool: reading and rendering
/// a page of large records is CPU work that would otherwise hold up every other request on
/// the async threads (the dashboard's among them).
async fn heavy(
    st: &AppState,
    fmt: Fmt,
    work: impl FnOnce(&AppState) -> Result<Response> + Send + 'static,
) -> Result<Response> {
    let _turn = st
        .guard
        .heavy_read()
        .await
        .map_err(|r| Open311Error::refused(fmt, r))?;
    let st = st.clone();
    tokio::task::spawn_blocking(move || work(&st))
        .await
        .map_err(|e| internal(fmt, e))?
}

/// `GET requests.{fmt}`: by id list, or by service, status and time, newest first.
pub async fn search(st: &AppState, form: &Form, fmt: Fmt) -> Result<Response> {
    if let Some(ids) = form.get("service_request_id") {
        // With ids, the other filters do not apply (the spec's rule); as many as a page.
        let asked: Vec<WhistleId> = ids
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .filter_map(|id| id.parse().ok())
            .collect();
        if asked.len() > MAX_PAGE_SIZE {
            return Err(Open311Error::bad(
                fmt,
                format!("at most {MAX_PAGE_SIZE} service_request_id values at once"),
            ));
        }
        return heavy(st, fmt, move |st| {
            let agencies = agencies(st);
            let mut items = Vec::new();
            for id in asked {
                if let Some(w) = st.store.whistle(id).map_err(|e| internal(fmt, e))? {
                    items.push(request(st, &w, &agencies));
                }
            }
            Ok(requests(fmt, items))
        })
        .await;
    }
    let code = form.get("service_code").map(str::to_string);
    if let Some(c) = &code {
        if category(st, c).is_none() {
            return Err(Open311Error::bad(
                fmt,
                format!(
                    "service_code {c:?} is not a service; see services.{}",
                    super::ext(fmt)
                ),
            ));
        }
    }
    let statuses: Vec<WhistleStatus> = match form.get("status") {
        None => Vec::new(),
        Some(v @ ("open" | "closed")) => WhistleStatus::ALL
            .into_iter()
            .filter(|s| closed(*s) == (v == "closed"))
            .collect(),
        Some(v) => {
            return Err(Open311Error::bad(
                fmt,
                format!("status must be open or closed; got {v:?}"),
            ))
        }
    };
    let (from, to) = window(st, form, fmt)?;
    let (skip, take) = paging(form, fmt)?;
    let page = FiledPage {
        from,
        to,
        statuses,
        category: code,
        skip,
        take,
    };
    heavy(st, fmt, move |st| {
        let found = st.store.filed_page(&page).map_err(|e| internal(fmt, e))?;
        let agencies = agencies(st);
        Ok(requests(
            fmt,
            found.iter().map(|w| request(st, w, &agencies)).collect(),
        ))
    })
    .await
}

fn lookup(st: &AppState, id: &str, fmt: Fmt) -> Result<Whistle> {
    let missing = || Open311Error::not_found(fmt, format!("no service request {id:?}"));
    let id = id.parse::<WhistleId>().map_err(|_| missing())?;
    st.store
        .whistle(id)
        .map_err(|e| internal(fmt, e))?
        .ok_or_else(missing)
}

/// `GET requests/{id}.{fmt}`: a list of one, as the spec has it.
pub async fn one(st: &AppState, id: &str, fmt: Fmt) -> Result<Response> {
    let w = lookup(st, id, fmt)?;
    Ok(requests(fmt, vec![request(st, &w, &agencies(st))]))
}

/// `GET tokens/{token}.{fmt}`: our POST answers with the id at once, so a token is the id.
pub fn token(st: &AppState, token: &str, fmt: Fmt) -> Result<Response> {
    let w = lookup(st, token, fmt)?;
    Ok(requests(
        fmt,
        vec![V::Obj(vec![
            ("service_request_id", V::S(w.id.to_string())),
            ("token", V::S(token.to_string())),
        ])],
    ))
}

/// The answers given as `attribute[code]=v` or `attribute[code][]=v` (repeatable).
fn answers(form: &Form) -> Answers {
    let mut out = Answers::new();
    for (k, v) in form.pairs() {
        let Some(rest) = k.strip_prefix("attribute[") else {
            continue;
        };
        let code = rest
            .strip_suffix("][]")
            .or_else(|| rest.strip_suffix(']'))
            .unwrap_or(rest);
        out.entry(code.to_string()).or_default().push(v.clone());
    }
    out
}

/// A one-line title from the description: its first line, at most 30 characters.
fn title_of(description: &str, service: &str) -> String {
    let first = description.lines().map(str::trim).find(|l| !l.is_empty());
    match first {
        Some(l) if l.chars().count() > 30 => format!("{}…", l.chars().take(29).collect::<String>()),
        Some(l) => l.to_string(),
        None => service.to_string(),
    }
}

/// `POST requests.{fmt}`: files a whistle for the api_key's community.
pub async fn create(
    st: &AppState,
    form: &Form,
    headers: &HeaderMap,
    client: Client,
    fmt: Fmt,
) -> Result<Response> {
    let Some(key) = form.get("api_key") else {
        return Err(match st.guard.key_failed(client) {
            Ok(()) => {
                Open311Error::forbidden(fmt, "api_key is required to report: a community's token")
            }
            Err(r) => Open311Error::refused(fmt, r),
        });
    };
    let who = super::key_holder(st, key, client, fmt)?;
    // Whose key it is stays unsaid: the answer is the same for every key that cannot report.
    let Scope::Community(community) = who.scope else {
        return Err(Open311Error::forbidden(
            fmt,
            "this api_key cannot report: reports are filed with a community's token",
        ));
    };
    st.tokens
        .take(&who.name)
        .map_err(|wait| Open311Error::from_api(fmt, ApiError::too_many(wait)))?;

    let code = form
        .get("service_code")
        .ok_or_else(|| Open311Error::bad(fmt, "service_code is required; see services"))?;
    let cat = category(st, code).ok_or_else(|| {
        Open311Error::bad(
            fmt,
            format!("service_code {code:?} is not a service; see services"),
        )
    })?;
    let num = |k: &str| -> Result<Option<f64>> {
        form.get(k)
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| {
                        Open311Error::bad(fmt, format!("{k} must be a number; got {v:?}"))
                    })
            })
            .transpose()
    };
    let (lat, long) = (num("lat")?, num("long")?);
    let address = form
        .get("address_string")
        .map(str::to_string)
        .or_else(|| form.get("address_id").map(|a| format!("地址编号 {a}")));
    if (lat.is_none() || long.is_none()) && address.is_none() {
        return Err(Open311Error::bad(
            fmt,
            "a location is required: lat and long, address_string, or address_id",
        ));
    }
    let answers = questions::check(&cat.questions, &answers(form), true)
        .map_err(|e| Open311Error::bad(fmt, e.to_string()))?;
    // A resident reporting danger happening now is urgent; everything else starts normal.
    let urgency = if answers
        .get("danger")
        .is_some_and(|v| v.iter().any(|x| x == "now"))
    {
        Urgency::Urgent
    } else {
        Urgency::Normal
    };
    let description = form
        .get("description")
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}（Open311 报告，未填写描述）", cat.name_zh));
    let name = [form.get("first_name"), form.get("last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let reporter = Reporter {
        name: (!name.is_empty()).then_some(name),
        email: form.get("email").map(str::to_string),
        phone: form.get("phone").map(str::to_string),
    };
    let nw = NewWhistle {
        community_id: community,
        category: cat.code.clone(),
        title: title_of(&description, &cat.name_zh),
        description,
        urgency,
        address,
        lat,
        long,
        media_url: form.get("media_url").map(str::to_string),
        reporter: (reporter != Reporter::default()).then_some(reporter),
        attributes: answers,
        source: Some(shaozi_shared::case::Source::Open311),
    };
    let idem = crate::routes::idempotency(headers, &who, &nw)
        .map_err(|e| Open311Error::from_api(fmt, e))?;
    let reply = st
        .writer
        .submit_once(Command::FileWhistle(nw), who, idem)
        .await
        .map_err(|e| Open311Error::from_api(fmt, e.into()))?;
    let (id, respond_by) = match reply {
        Reply::Whistle(w) => (w.id.to_string(), Some(w.respond_by)),
        Reply::Replayed(json) => {
            let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
            let id = v["id"].as_str().unwrap_or_default().to_string();
            let by = v["respond_by"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc));
            (id, by)
        }
        r => return Err(Open311Error::from_api(fmt, crate::routes::unexpected(&r))),
    };
    // Words for a resident: the city's own clock in the Chinese, UTC (as every time on the
    // wire) in the English.
    let notice = respond_by.map(|t| {
        let local = t.with_timezone(&st.rules.calendar.offset);
        format!(
            "已受理，部门须在 {} 前到场报到 / received; a department must report for duty by {}",
            local.format("%Y年%-m月%-d日 %H:%M"),
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    });
    let v = V::List(
        "request",
        vec![V::Obj(vec![
            ("service_request_id", V::S(id.clone())),
            ("service_notice", V::opt(notice)),
            ("account_id", V::Null),
        ])],
    );
    let mut res = render(fmt, StatusCode::CREATED, "service_requests", &v);
    if let Ok(loc) =
        HeaderValue::from_str(&format!("/open311/v2/requests/{id}.{}", super::ext(fmt)))
    {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(res)
}

/// What an event tells a resident: the public description of its step (shared with the
/// event kinds), never an internal note or a staff name.
fn what_happened(e: &Event, agencies: &HashMap<DepartmentId, String>) -> Option<String> {
    let r = &e.record;
    Some(match e.kind.public()? {
        Public::Words(w) => w.to_string(),
        Public::WithDepartment(w) => {
            let dept = r["department_id"]
                .as_str()
                .and_then(|d| d.parse::<DepartmentId>().ok())
                .and_then(|d| agencies.get(&d).cloned())
                .unwrap_or_else(|| "部门".into());
            w.replace("{}", &dept)
        }
        Public::Field(field, otherwise) => r[field].as_str().unwrap_or(otherwise).to_string(),
        Public::Note(otherwise) => e.note.clone().unwrap_or_else(|| otherwise.to_string()),
    })
}

/// `GET servicerequestupdates.{fmt}`: every status change and reply in the window, oldest first.
pub async fn updates(st: &AppState, form: &Form, fmt: Fmt) -> Result<Response> {
    let (from, to) = window(st, form, fmt)?;
    let (skip, take) = paging(form, fmt)?;
    heavy(st, fmt, move |st| {
        updates_page(st, from, to, skip, take, fmt)
    })
    .await
}

fn updates_page(
    st: &AppState,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    skip: usize,
    take: usize,
    fmt: Fmt,
) -> Result<Response> {
    let events = st
        .store
        .whistle_log_page(from, to, skip, take)
        .map_err(|e| internal(fmt, e))?;
    let agencies = agencies(st);
    let items = events
        .iter()
        .filter_map(|e| {
            let description = what_happened(e, &agencies)?;
            let status = e.record["status"]
                .as_str()
                .and_then(WhistleStatus::parse)
                .map(status_word)
                .unwrap_or("open");
            Some(V::Obj(vec![
                ("update_id", V::S(e.seq.to_string())),
                ("service_request_id", V::S(e.subject.clone())),
                ("status", V::S(status.into())),
                ("updated_datetime", V::time(e.at)),
                ("description", V::S(description)),
                ("media_url", V::Null),
            ]))
        })
        .collect();
    Ok(render(
        fmt,
        StatusCode::OK,
        "service_request_updates",
        &V::List("request_update", items),
    ))
}
