//! The OpenAPI 3.1 contract of `/api/v1`, generated from the handlers' own annotations and
//! served at `GET /api/v1/openapi.json`. The refusals every operation can give (problem+json)
//! are added here once, by what the operation takes, rather than repeated on every handler.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa::{OpenApi as _, PartialSchema, ToSchema};

use shaozi_shared::api::Problem;

/// The document's fixed parts; the paths come from the router.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "shaozi",
        description = "基层吹哨、部门报到: communities blow the whistle, departments report for duty. \
            Every change is on disk before its 2xx. Errors are application/problem+json. \
            Send `Authorization: Bearer <token>`; what a token may see and do follows its role and scope.",
        license(name = "MIT")
    ),
    tags(
        (name = "directory", description = "Streets, communities, departments and categories"),
        (name = "whistles", description = "Cases: filed by communities, answered by departments"),
        (name = "wishes", description = "Residents' micro-wishes"),
        (name = "stats", description = "Counts for dashboards"),
        (name = "events", description = "The durable event log, live"),
        (name = "assessment", description = "How every unit answered"),
        (name = "patterns", description = "Hotspots and trends: what keeps coming back, week by week"),
        (name = "templates", description = "Reply templates (知识库): the city's wording and each unit's own, filled from a case"),
        (name = "admin", description = "Tokens and the audit log"),
        (name = "webhooks", description = "Pushing events to receivers and work-chat robots"),
    )
)]
pub struct ApiDoc;

/// The refusals an operation may give, by status: (status, component name, description).
const REFUSALS: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "A parameter, header or body is malformed; `field` names it",
    ),
    (
        "401",
        "Unauthorized",
        "No token, or one that is unknown or revoked",
    ),
    ("403", "Forbidden", "Outside this token's role or scope"),
    ("404", "NotFound", "No such record"),
    ("408", "RequestTimeout", "The body did not arrive in time"),
    (
        "409",
        "Conflict",
        "Not allowed in the record's current status, or already exists",
    ),
    (
        "412",
        "PreconditionFailed",
        "The record changed since you read it; `current` is how it is now",
    ),
    ("413", "PayloadTooLarge", "The body is over the limit"),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not application/json",
    ),
    (
        "422",
        "UnprocessableEntity",
        "The body is well-formed but a value is not acceptable; `field` names it",
    ),
    (
        "429",
        "TooManyRequests",
        "This token is over its rate or stream limit; see Retry-After",
    ),
    (
        "503",
        "Unavailable",
        "The server is shutting down or cannot write; see Retry-After",
    ),
];

/// The whole document, built once.
pub fn document() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, mut doc) = utoipa_axum::router::OpenApiRouter::<crate::AppState>::new()
            .nest(
                "/api/v1",
                crate::api_routes().routes(utoipa_axum::routes!(serve)),
            )
            .split_for_parts();
        finish(&mut doc);
        doc
    })
}

/// The document as pretty JSON with a trailing newline, as committed in `docs/openapi.json`.
pub fn document_json() -> String {
    let mut s = document()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// One event of the stream, as OpenAPI 3.1 lets a `text/event-stream` be described (3.2 names
/// it `itemSchema`): the SSE fields, `data` being the JSON of an `Event` (`contentMediaType`,
/// and `contentSchema`, which utoipa has no builder for).
fn stream_event() -> Schema {
    let text = |description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
    };
    let mut data = text("The Event, as JSON")
        .content_media_type("application/json")
        .build();
    data.extensions = Some(Extensions::from_iter([(
        "contentSchema",
        serde_json::json!({ "$ref": "#/components/schemas/Event" }),
    )]));
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "One event of the stream. A keep-alive comment (`:`) comes every 15 s.",
            ))
            .property(
                "id",
                text(
                    "The event's sequence number: send it back as Last-Event-ID to resume after it",
                )
                .pattern(Some("^[0-9]+$")),
            )
            .property(
                "event",
                text("Not sent, so `message`; what happened is `type` in `data`")
                    .enum_values(Some(["message"])),
            )
            .property("data", data)
            .property(
                "retry",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .description(Some("Not sent")),
            )
            .required("id")
            .required("data")
            .build(),
    )
}

/// Puts [`stream_event`] on the event stream's `text/event-stream` answer.
fn describe_the_stream(doc: &mut OpenApi) {
    let Some(RefOr::T(ok)) = doc
        .paths
        .paths
        .get_mut("/api/v1/events")
        .and_then(|item| item.get.as_mut())
        .and_then(|op| op.responses.responses.get_mut("200"))
    else {
        return;
    };
    if let Some(content) = ok.content.get_mut("text/event-stream") {
        content.schema = Some(RefOr::T(stream_event()));
    }
}

/// `GET /api/v1/openapi.json`: the contract, no token needed.
#[utoipa::path(get, path = "/openapi.json", tag = "admin", summary = "This document",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub async fn serve() -> Response {
    static JSON: OnceLock<String> = OnceLock::new();
    let body: &'static str = JSON.get_or_init(document_json);
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Adds the security scheme, the problem schema and each operation's refusals.
fn finish(doc: &mut OpenApi) {
    let base = ApiDoc::openapi();
    doc.info = base.info;
    doc.tags = base.tags;
    let components = doc.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        "bearer".into(),
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    let mut problem_schemas = Vec::new();
    <Problem as ToSchema>::schemas(&mut problem_schemas);
    problem_schemas.push((Problem::name().into_owned(), Problem::schema()));
    for (name, schema) in problem_schemas {
        components.schemas.entry(name).or_insert(schema);
    }
    for (status, name, description) in REFUSALS {
        let mut r = ResponseBuilder::new().description(*description).content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        );
        if matches!(*status, "429" | "503") {
            r = r.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(Object::with_type(Type::Integer))
                    .description(Some("Seconds to wait before retrying"))
                    .build(),
            );
        }
        components
            .responses
            .insert((*name).to_string(), RefOr::T(r.build()));
    }
    describe_the_stream(doc);
    doc.security = Some(vec![SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            (false, item.get.as_mut()),
            (true, item.post.as_mut()),
            (true, item.delete.as_mut()),
            (true, item.put.as_mut()),
            (true, item.patch.as_mut()),
        ];
        for (writes, op) in ops {
            if let Some(op) = op {
                add_refusals(path, writes, op);
            }
        }
    }
}

/// The refusals that apply to one operation, by what it takes.
fn add_refusals(path: &str, writes: bool, op: &mut Operation) {
    // The public document itself needs no token and refuses nothing.
    let public = op
        .security
        .as_ref()
        .is_some_and(|s| s.iter().all(|r| r == &SecurityRequirement::default()));
    if public {
        return;
    }
    let has = |n: &str| {
        op.parameters.as_ref().is_some_and(|ps| {
            ps.iter()
                .any(|p| p.name == n && p.parameter_in == ParameterIn::Header)
        })
    };
    let mut statuses = vec!["400", "401", "403", "429"];
    if path.contains('{') {
        statuses.push("404");
    }
    if op.request_body.is_some() {
        statuses.extend(["408", "413", "415", "422"]);
    }
    if writes {
        statuses.extend(["409", "503"]);
    }
    if has("If-Match") {
        statuses.push("412");
    }
    if has("Idempotency-Key") {
        statuses.push("422");
    }
    for (status, name, _) in REFUSALS {
        if statuses.contains(status) {
            op.responses
                .responses
                .entry((*status).to_string())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
        }
    }
}
