//! `GET /api/v1/assessment` (JSON or CSV) and `POST /api/v1/activities`.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use shaozi_shared::api::{Activity, Assessment, NewActivity};
use shaozi_shared::assessment::UnitScore;
use shaozi_shared::Principal;

use super::unexpected;
use crate::error::ApiError;
use crate::extract::{ApiJson, Params};
use crate::storage::Group;
use crate::writer::{Command, Reply};
use crate::AppState;

/// A time given as RFC 3339, or a local date (its start; for `to`, the next day's start).
pub(crate) fn instant(
    st: &AppState,
    p: &Params,
    k: &str,
    end_of_day: bool,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(v) = p.get(k).map(str::trim) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let bad = || {
        ApiError::bad_param(
            k,
            format!("{k} must be a date (2026-11-01) or an RFC 3339 time; got {v:?}"),
        )
    };
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| bad())?;
    let d = if end_of_day {
        d.succ_opt().ok_or_else(bad)?
    } else {
        d
    };
    let local = st
        .rules
        .calendar
        .offset
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).ok_or_else(bad)?)
        .single()
        .ok_or_else(bad)?;
    Ok(Some(local.with_timezone(&Utc)))
}

fn csv(units: &[UnitScore]) -> String {
    let num = |v: Option<f64>| {
        v.map(|x| format!("{}", (x * 10_000.0).round() / 10_000.0))
            .unwrap_or_default()
    };
    let mut out = String::from(
        "rank,id,name,score,dispatched,on_time,on_time_rate,resolved,resolution_rate,rated,satisfaction_mean,satisfied_share,\
         median_respond_minutes,median_resolve_minutes,overdue_now,reopened,escalations,wishes_claimed,wishes_completed,wishes_value_fen,activities,\
         resolved_on_time,on_time_resolution_rate,returns_upheld,returns_overruled,extensions_granted,urges,resident_rated,resident_satisfaction_mean,\
         closed,closed_unrated,dispatches,dispatch_accuracy,moved_twice,\
         reported,report_rate,assisted,assisted_reported,assisted_report_rate,assisted_on_time,assisted_on_time_rate,\
         median_assisted_respond_minutes,assisted_parts_done,calls,calls_reported,calls_report_rate,calls_on_time,\
         calls_on_time_rate,median_calls_respond_minutes\n",
    );
    for u in units {
        // Every cell goes through the neutraliser: names are typed by people.
        let row = [
            u.rank.map(|r| r.to_string()).unwrap_or_default(),
            u.id.clone(),
            u.name.clone(),
            num(u.score),
            u.dispatched.to_string(),
            u.on_time.to_string(),
            num(u.on_time_rate),
            u.resolved.to_string(),
            num(u.resolution_rate),
            u.rated.to_string(),
            num(u.satisfaction_mean),
            num(u.satisfied_share),
            num(u.median_respond_minutes),
            num(u.median_resolve_minutes),
            u.overdue_now.to_string(),
            u.reopened.to_string(),
            u.escalations.to_string(),
            u.wishes_claimed.to_string(),
            u.wishes_completed.to_string(),
            u.wishes_value_fen.to_string(),
            u.activities.to_string(),
            u.resolved_on_time.to_string(),
            num(u.on_time_resolution_rate),
            u.returns_upheld.to_string(),
            u.returns_overruled.to_string(),
            u.extensions_granted.to_string(),
            u.urges.to_string(),
            u.resident_rated.to_string(),
            num(u.resident_satisfaction_mean),
            u.closed.to_string(),
            u.closed_unrated.to_string(),
            u.dispatches.map(|n| n.to_string()).unwrap_or_default(),
            num(u.dispatch_accuracy),
            u.moved_twice.map(|n| n.to_string()).unwrap_or_default(),
            // Joint 报到: led, assisting and every call apart (added last: a sheet built on
            // the columns before keeps its places).
            u.reported.to_string(),
            num(u.report_rate),
            u.assisted.to_string(),
            u.assisted_reported.to_string(),
            num(u.assisted_report_rate),
            u.assisted_on_time.to_string(),
            num(u.assisted_on_time_rate),
            num(u.median_assisted_respond_minutes),
            u.assisted_parts_done.to_string(),
            u.calls.to_string(),
            u.calls_reported.to_string(),
            num(u.calls_report_rate),
            u.calls_on_time.to_string(),
            num(u.calls_on_time_rate),
            num(u.median_calls_respond_minutes),
        ];
        out.push_str(&shaozi_shared::csv::row(&row));
        out.push('\n');
    }
    out
}

/// `GET /api/v1/assessment?from=&to=&group=department|street|community` (`format=csv`, or
/// `Accept: text/csv`, for a spreadsheet). Defaults: the last 30 days, departments.
#[utoipa::path(get, path = "/assessment", tag = "assessment", summary = "How every unit answered in a period, ranked",
    params(
        ("from" = Option<String>, Query, description = "Start: RFC 3339 time or a local date (YYYY-MM-DD); default 30 days before `to`"),
        ("to" = Option<String>, Query, description = "End: RFC 3339 time or a local date (through that day); default now"),
        ("group" = Option<String>, Query, description = "department (default), street or community"),
        ("format" = Option<String>, Query, description = "csv for a spreadsheet (or send Accept: text/csv)"),
    ),
    responses((status = 200, description = "The ranking, as JSON or CSV",
        content((Assessment = "application/json"), (String = "text/csv")))))]
pub async fn get(
    State(st): State<AppState>,
    headers: HeaderMap,
    p: Params,
) -> Result<Response, ApiError> {
    let group_name = p.get("group").unwrap_or("department");
    let group = Group::parse(group_name).ok_or_else(|| {
        ApiError::bad_param(
            "group",
            format!("group must be department, street or community; got {group_name:?}"),
        )
    })?;
    let to = instant(&st, &p, "to", true)?.unwrap_or_else(Utc::now);
    let from = instant(&st, &p, "from", false)?.unwrap_or(to - Duration::days(30));
    if from >= to {
        return Err(ApiError::bad_param("from", "from must be before to"));
    }
    let store = st.store.clone();
    let weights = st.rules.weights;
    let offset = st.rules.calendar.offset;
    let (units, daily) = tokio::task::spawn_blocking(move || {
        Ok::<_, crate::storage::StoreError>((
            store.assessment(group, from, to, &weights)?,
            store.daily(from, to, offset)?,
        ))
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    let wants_csv = p.get("format") == Some("csv")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/csv"));
    if wants_csv {
        let name = format!(
            "attachment; filename=\"assessment-{group_name}-{}-{}.csv\"",
            from.format("%Y%m%d"),
            to.format("%Y%m%d")
        );
        return Ok((
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, name),
            ],
            csv(&units),
        )
            .into_response());
    }
    let group = match group {
        Group::Department => "department",
        Group::Street => "street",
        Group::Community => "community",
    };
    Ok(Json(Assessment {
        from,
        to,
        group: group.to_string(),
        weights,
        units,
        daily,
    })
    .into_response())
}

/// `POST /api/v1/activities`: 201 with the activity.
#[utoipa::path(post, path = "/activities", tag = "assessment", summary = "Record an activity a unit took part in",
    request_body = NewActivity,
    responses((status = 201, description = "The activity, on disk", body = Activity)))]
pub async fn record(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiJson(b): ApiJson<NewActivity>,
) -> Result<Response, ApiError> {
    match st.writer.submit(Command::RecordActivity(b), who).await? {
        Reply::Activity(a) => Ok((StatusCode::CREATED, Json(*a)).into_response()),
        r => Err(unexpected(&r)),
    }
}
