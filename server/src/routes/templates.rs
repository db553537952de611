//! `GET|POST /api/v1/templates` and `GET|DELETE /api/v1/templates/{id}`: reply templates, the
//! rules file's and those kept through the API, with a case's values in place on request.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use shaozi_shared::api::{NewTemplate, ReplyTemplate, Templates};
use shaozi_shared::templates::{fill, CaseValues, TemplateStep};
use shaozi_shared::{Principal, Whistle};

use super::IdempotencyKey;
use super::{created, idempotency, unexpected};
use crate::error::ApiError;
use crate::extract::{ApiJson, Params};
use crate::writer::{Command, Reply};
use crate::AppState;

/// Every template `who` sees: the rules file's first, then the kept ones by number.
fn visible(st: &AppState, who: &Principal) -> Result<Vec<ReplyTemplate>, ApiError> {
    let mut all = st.rules.templates.clone();
    all.extend(st.store.templates()?);
    all.retain(|t| t.visible_to(who));
    Ok(all)
}

/// What a case puts in its templates' placeholders: names from the directory.
fn values_of(st: &AppState, w: &Whistle) -> Result<CaseValues, ApiError> {
    let community = st.store.community(w.community_id)?.map(|c| c.name);
    let department = match w.department_id {
        Some(d) => st
            .store
            .departments()?
            .into_iter()
            .find(|x| x.id == d)
            .map(|x| x.name),
        None => None,
    };
    Ok(CaseValues::of(w, community, department))
}

/// `GET /api/v1/templates?whistle=W1042&step=resolve`.
#[utoipa::path(get, path = "/templates", tag = "templates",
    summary = "Reply templates: the city's, and the caller's unit's own",
    description = "With `whistle`, only those offered for that case's category, each with the case's values in place (`filled`) and the placeholders it cannot fill yet (`unfilled`).",
    params(
        ("whistle" = Option<String>, Query, description = "A case the caller sees, e.g. W1042"),
        ("category" = Option<String>, Query, description = "Only those for this category (and every category's)"),
        ("step" = Option<String>, Query, description = "`resolve` or `reject`: only those the prompt offers")),
    responses((status = 200, description = "The templates", body = Templates),
        (status = 404, description = "No such case in the token's scope")))]
pub async fn list(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    p: Params,
) -> Result<Json<Templates>, ApiError> {
    let step = match p.get("step") {
        None => TemplateStep::Any,
        Some(s) => TemplateStep::parse(s.trim()).ok_or_else(|| {
            ApiError::bad_param("step", format!("step is resolve, reject or any; got {s:?}"))
        })?,
    };
    let case = match p.get("whistle") {
        None => None,
        Some(id) => {
            let id: shaozi_shared::WhistleId =
                id.trim()
                    .parse()
                    .map_err(|e: shaozi_shared::IdParseError| {
                        ApiError::bad_param("whistle", e.to_string())
                    })?;
            // Outside the token's scope is the same answer as missing.
            let w = st
                .store
                .whistle(id)?
                .filter(|w| who.sees_whistle(w))
                .ok_or_else(|| ApiError::not_found(format!("there is no whistle {id}")))?;
            Some(w)
        }
    };
    let category = case
        .as_ref()
        .map(|w| w.category.clone())
        .or_else(|| p.get("category").map(|c| c.trim().to_string()));
    let mut items = visible(&st, &who)?;
    items.retain(|t| match &category {
        Some(c) => t.offered_for(c, step),
        None => t.step.offers(step),
    });
    if let Some(w) = &case {
        let values = values_of(&st, w)?;
        for t in &mut items {
            let f = fill(&t.text, &values);
            t.filled = Some(f.text);
            t.unfilled = f.unfilled;
        }
    }
    Ok(Json(Templates { items }))
}

/// `POST /api/v1/templates`: 201 with the template.
#[utoipa::path(post, path = "/templates", tag = "templates",
    summary = "Keep a reply template for the caller's unit (the city office's: everyone's)",
    params(IdempotencyKey), request_body = NewTemplate,
    responses((status = 201, description = "The template, on disk", body = ReplyTemplate,
        headers(("Location" = String, description = "Where it lives")))))]
pub async fn create(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<NewTemplate>,
) -> Result<Response, ApiError> {
    let idem = idempotency(&headers, &who, &b)?;
    match st
        .writer
        .submit_once(Command::SaveTemplate(b), who, idem)
        .await?
    {
        Reply::Template(t) => {
            let at = format!("/api/v1/templates/{}", t.id);
            Ok((StatusCode::CREATED, [(header::LOCATION, at)], Json(*t)).into_response())
        }
        Reply::Replayed(json) => Ok(created::<ReplyTemplate>(None, Some(json))),
        r => Err(unexpected(&r)),
    }
}

/// One template the caller sees, by id.
fn one(st: &AppState, who: &Principal, id: &str) -> Result<ReplyTemplate, ApiError> {
    visible(st, who)?
        .into_iter()
        .find(|t| t.id == id.trim())
        .ok_or_else(|| ApiError::not_found(format!("there is no template {id}")))
}

/// `GET /api/v1/templates/{id}`.
#[utoipa::path(get, path = "/templates/{id}", tag = "templates", summary = "One reply template",
    params(("id" = String, Path, description = "e.g. T3, or R1 for the rules file's first")),
    responses((status = 200, description = "The template", body = ReplyTemplate)))]
pub async fn get_one(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<ReplyTemplate>, ApiError> {
    Ok(Json(one(&st, &who, &id)?))
}

/// `DELETE /api/v1/templates/{id}`.
#[utoipa::path(delete, path = "/templates/{id}", tag = "templates", summary = "Delete a kept reply template",
    description = "Only its own unit or the city office deletes one; the rules file's are changed in the rules file (409).",
    params(("id" = String, Path, description = "e.g. T3")),
    responses((status = 204, description = "Deleted, on disk")))]
pub async fn delete(
    State(st): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if let Some(t) = st.rules.templates.iter().find(|t| t.id == id.trim()) {
        if t.visible_to(&who) {
            return Err(ApiError::conflict(format!(
                "{id} comes from the rules file; change it there"
            )));
        }
    }
    let n = ReplyTemplate::kept_number(id.trim())
        .ok_or_else(|| ApiError::not_found(format!("there is no template {id}")))?;
    match st.writer.submit(Command::DeleteTemplate(n), who).await? {
        Reply::Template(_) => Ok(StatusCode::NO_CONTENT),
        r => Err(unexpected(&r)),
    }
}
