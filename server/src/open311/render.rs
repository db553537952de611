//! One tree of values rendered either as GeoReport's XML (no namespace) or as JSON, so the two
//! formats can never disagree about a field.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};

/// The format a GeoReport URL asks for by its suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fmt {
    /// `.xml`, the spec's mandatory format.
    Xml,
    /// `.json`.
    Json,
}

/// A value in an answer.
#[derive(Debug, Clone)]
pub enum V {
    /// Text.
    S(String),
    /// A number.
    N(f64),
    /// A whole number.
    I(i64),
    /// true or false.
    B(bool),
    /// Absent: JSON null, an empty XML element.
    Null,
    /// Named members, in order.
    Obj(Vec<(&'static str, V)>),
    /// A list; in XML each item is an element named by the tag.
    List(&'static str, Vec<V>),
}

impl V {
    /// Text, or null.
    pub fn opt(s: Option<impl Into<String>>) -> V {
        s.map_or(V::Null, |s| V::S(s.into()))
    }

    /// A time with its zone (UTC, `Z`).
    pub fn time(t: DateTime<Utc>) -> V {
        V::S(t.to_rfc3339_opts(SecondsFormat::Secs, true))
    }

    fn json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            V::S(s) => J::String(s.clone()),
            V::N(n) => serde_json::Number::from_f64(*n).map_or(J::Null, J::Number),
            V::I(i) => J::from(*i),
            V::B(b) => J::Bool(*b),
            V::Null => J::Null,
            V::Obj(members) => J::Object(
                members
                    .iter()
                    .map(|(k, v)| ((*k).into(), v.json()))
                    .collect(),
            ),
            V::List(_, items) => J::Array(items.iter().map(V::json).collect()),
        }
    }

    fn xml(&self, tag: &str, out: &mut String) {
        out.push('<');
        out.push_str(tag);
        out.push('>');
        match self {
            V::S(s) => escape(s, out),
            V::N(n) => out.push_str(&n.to_string()),
            V::I(i) => out.push_str(&i.to_string()),
            V::B(b) => out.push_str(if *b { "true" } else { "false" }),
            V::Null => {}
            V::Obj(members) => {
                for (k, v) in members {
                    v.xml(k, out);
                }
            }
            V::List(item, items) => {
                for v in items {
                    v.xml(item, out);
                }
            }
        }
        out.push_str("</");
        out.push_str(tag);
        out.push('>');
    }
}

/// Escapes text for XML, dropping the control characters XML 1.0 cannot carry.
fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
}

/// The answer: `root` names the XML document element; JSON lists are bare arrays.
pub fn render(fmt: Fmt, status: StatusCode, root: &str, v: &V) -> Response {
    match fmt {
        Fmt::Json => {
            let body = serde_json::to_string(&v.json()).unwrap_or_default();
            (
                status,
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                body,
            )
                .into_response()
        }
        Fmt::Xml => {
            let mut body = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
            v.xml(root, &mut body);
            body.push('\n');
            (
                status,
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                body,
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_and_json_carry_the_same_tree() {
        let v = V::List(
            "request",
            vec![V::Obj(vec![
                ("service_request_id", V::S("W1".into())),
                ("description", V::S("井盖 <缺失> & \"危险\"\u{7}".into())),
                ("lat", V::N(28.5)),
                ("media_url", V::Null),
            ])],
        );
        let mut xml = String::new();
        v.xml("service_requests", &mut xml);
        assert_eq!(
            xml,
            "<service_requests><request><service_request_id>W1</service_request_id>\
             <description>井盖 &lt;缺失&gt; &amp; &quot;危险&quot;</description><lat>28.5</lat>\
             <media_url></media_url></request></service_requests>"
        );
        let json = v.json();
        assert_eq!(json[0]["service_request_id"], "W1");
        assert_eq!(json[0]["lat"], 28.5);
        assert!(json[0]["media_url"].is_null());
    }
}
