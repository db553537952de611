//! Discovery, the service list (our categories) and service definitions (their questions).

use axum::http::StatusCode;
use axum::response::Response;

use shaozi_shared::calendar::Span;
use shaozi_shared::Category;

use super::render::{render, Fmt, V};
use super::{Open311Error, Result};
use crate::AppState;

/// When this interface last changed shape, for discovery's `changeset`.
const CHANGESET: &str = "2026-11-27T00:00:00Z";

/// `GET discovery.{fmt}`.
pub fn discovery(st: &AppState, fmt: Fmt, scheme: &str, host: &str) -> Response {
    let formats = V::List(
        "format",
        vec![V::S("text/xml".into()), V::S("application/json".into())],
    );
    let endpoint = V::Obj(vec![
        (
            "specification",
            V::S("http://wiki.open311.org/GeoReport_v2".into()),
        ),
        ("url", V::S(format!("{scheme}://{host}/open311/v2"))),
        ("changeset", V::S(CHANGESET.into())),
        ("type", V::S("production".into())),
        ("formats", formats),
    ]);
    let v = V::Obj(vec![
        ("changeset", V::S(CHANGESET.into())),
        (
            "contact",
            V::S(format!(
                "The city coordinating office (市创文办) of jurisdiction {}",
                st.jurisdiction
            )),
        ),
        (
            "key_service",
            V::S(
                "Reports need api_key: a community's token, issued by the city office \
                 (shaozi-server token create --role community --community C12)"
                    .into(),
            ),
        ),
        ("endpoints", V::List("endpoint", vec![endpoint])),
    ]);
    render(fmt, StatusCode::OK, "discovery", &v)
}

fn span_words(s: Span) -> String {
    s.to_string()
}

fn service(c: &Category) -> V {
    let d = c.deadlines.normal;
    V::Obj(vec![
        ("service_code", V::S(c.code.clone())),
        ("service_name", V::S(c.name_zh.clone())),
        (
            "description",
            V::S(format!(
                "{}: a department reports for duty within {} and resolves within {} (urgent: {} and {}).",
                c.name_en,
                span_words(d.respond),
                span_words(d.resolve),
                span_words(c.deadlines.urgent.respond),
                span_words(c.deadlines.urgent.resolve)
            )),
        ),
        ("metadata", V::B(!c.questions.is_empty())),
        ("type", V::S("realtime".into())),
        ("keywords", V::S(c.keywords.join(","))),
        ("group", V::S(c.group.clone())),
    ])
}

/// `GET services.{fmt}`.
pub fn list(st: &AppState, fmt: Fmt) -> Response {
    let v = V::List("service", st.rules.categories.iter().map(service).collect());
    render(fmt, StatusCode::OK, "services", &v)
}

/// `GET services/{service_code}.{fmt}`: the questions of a category that asks some.
pub fn definition(st: &AppState, code: &str, fmt: Fmt) -> Result<Response> {
    let c = st
        .rules
        .categories
        .iter()
        .find(|c| c.code == code)
        .ok_or_else(|| {
            Open311Error::not_found(
                fmt,
                format!("no service {code:?}; see services.{}", super::ext(fmt)),
            )
        })?;
    if c.questions.is_empty() {
        return Err(Open311Error::not_found(
            fmt,
            format!("service {code:?} asks no extra questions (metadata is false), so it has no definition"),
        ));
    }
    let attributes = c
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            V::Obj(vec![
                ("variable", V::B(true)),
                ("code", V::S(q.code.clone())),
                ("datatype", V::S(q.datatype.as_str().into())),
                ("required", V::B(q.required)),
                (
                    "datatype_description",
                    V::opt(q.datatype_description.clone()),
                ),
                ("order", V::I(i as i64 + 1)),
                ("description", V::S(q.description.clone())),
                (
                    "values",
                    V::List(
                        "value",
                        q.values
                            .iter()
                            .map(|c| {
                                V::Obj(vec![
                                    ("key", V::S(c.key.clone())),
                                    ("name", V::S(c.name.clone())),
                                ])
                            })
                            .collect(),
                    ),
                ),
            ])
        })
        .collect();
    let v = V::Obj(vec![
        ("service_code", V::S(c.code.clone())),
        ("attributes", V::List("attribute", attributes)),
    ]);
    Ok(render(fmt, StatusCode::OK, "service_definition", &v))
}
