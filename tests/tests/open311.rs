//! Open311 GeoReport v2, spoken the way third-party clients speak it: form posts, `.xml` and
//! `.json` suffixes, `api_key` as a form field or a query parameter.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::{json, Value};
use shaozi_tests::{t0, City, TestServer};

/// An answer from a GeoReport resource, with its body kept as text.
struct Got {
    status: u16,
    content_type: String,
    text: String,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// The XML document, checked to be XML without a namespace.
    fn xml(&self) -> roxmltree::Document<'_> {
        let doc = roxmltree::Document::parse(&self.text).expect("well-formed XML");
        assert!(
            doc.root_element().tag_name().namespace().is_none(),
            "no namespace"
        );
        doc
    }
}

async fn get(s: &TestServer, path: &str) -> Got {
    let res = s
        .client
        .get(format!("{}/open311/v2/{path}", s.base))
        .send()
        .await
        .expect("GET");
    answer(res).await
}

async fn answer(res: reqwest::Response) -> Got {
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    Got {
        status,
        content_type,
        text: res.text().await.expect("body"),
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut f = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        f.append_pair(k, v);
    }
    f.finish()
}

async fn post(s: &TestServer, path: &str, pairs: &[(&str, &str)]) -> Got {
    post_with(s, path, pairs, &[]).await
}

async fn post_with(
    s: &TestServer,
    path: &str,
    pairs: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Got {
    let mut rb = s
        .client
        .post(format!("{}/open311/v2/{path}", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs));
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    answer(rb.send().await.expect("POST")).await
}

/// The text of `parent`'s child element `name`.
fn child<'a>(parent: roxmltree::Node<'a, 'a>, name: &str) -> Option<&'a str> {
    parent
        .children()
        .find(|n| n.has_tag_name(name))
        .map(|n| n.text().unwrap_or(""))
}

/// A city and a community token (the api_key) for its first community.
async fn setup() -> (TestServer, City, String) {
    let s = TestServer::start().await;
    let city = s.small_city().await;
    let key = s
        .token(
            "community",
            json!({"community_id": city.communities[0]}),
            "朝阳路社区",
        )
        .await;
    (s, city, key)
}

const JSON: &str = "application/json; charset=utf-8";
const XML: &str = "text/xml; charset=utf-8";

#[tokio::test]
async fn discovery_and_services_in_both_formats() {
    let (s, _, _) = setup().await;

    let d = get(&s, "discovery.json").await;
    assert_eq!((d.status, d.content_type.as_str()), (200, JSON));
    let d = d.json();
    for k in ["changeset", "contact", "key_service"] {
        assert!(d[k].is_string(), "discovery {k}");
    }
    let e = &d["endpoints"][0];
    assert_eq!(e["specification"], "http://wiki.open311.org/GeoReport_v2");
    assert!(e["url"].as_str().unwrap_or("").ends_with("/open311/v2"));
    assert_eq!(e["type"], "production");
    assert_eq!(e["formats"], json!(["text/xml", "application/json"]));
    let dx = get(&s, "discovery.xml").await;
    assert_eq!(dx.content_type, XML);
    let doc = dx.xml();
    assert!(doc.root_element().has_tag_name("discovery"));
    let formats: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("format"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(formats, ["text/xml", "application/json"]);

    // Services: a bare array in JSON, <services><service> in XML, the same fields.
    let list = get(&s, "services.json").await;
    assert_eq!(list.content_type, JSON);
    let list = list.json();
    let services = list.as_array().expect("a bare top-level array");
    assert_eq!(services.len(), 14, "one service per category");
    let roads = services
        .iter()
        .find(|v| v["service_code"] == "roads")
        .expect("roads");
    assert_eq!(roads["service_name"], "道路设施");
    assert_eq!(roads["metadata"], true);
    assert_eq!(roads["type"], "realtime");
    assert_eq!(roads["group"], "市政设施");
    assert!(roads["keywords"].as_str().unwrap_or("").contains("pothole"));
    assert!(roads["description"].as_str().unwrap_or("").contains("24h"));
    let noise = services
        .iter()
        .find(|v| v["service_code"] == "noise")
        .expect("noise");
    assert_eq!(noise["metadata"], false);
    let xml = get(&s, "services.xml").await;
    let doc = xml.xml();
    assert!(doc.root_element().has_tag_name("services"));
    let first = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("service"))
        .expect("service element");
    for k in [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ] {
        assert!(child(first, k).is_some(), "XML service lacks {k}");
    }

    // A definition, for a service that asks questions.
    let def = get(&s, "services/roads.json").await;
    assert_eq!(def.status, 200);
    let def = def.json();
    assert_eq!(def["service_code"], "roads");
    let a = &def["attributes"][0];
    assert_eq!(a["variable"], true);
    assert_eq!(a["code"], "hazard");
    assert_eq!(a["datatype"], "singlevaluelist");
    assert_eq!(a["required"], true);
    assert_eq!(a["order"], 1);
    assert!(a["description"].is_string());
    assert!(a.get("datatype_description").is_some());
    assert_eq!(
        a["values"][2],
        json!({"key": "cover", "name": "井盖缺失或破损"})
    );
    let defx = get(&s, "services/lighting.xml").await;
    let doc = defx.xml();
    assert!(doc.root_element().has_tag_name("service_definition"));
    let codes: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("attribute"))
        .filter_map(|n| child(n, "code"))
        .collect();
    assert_eq!(codes, ["lamps", "pole"]);

    // Unknown codes, and services that ask nothing, have no definition: 404 in the spec's form.
    for path in ["services/volcano.json", "services/noise.json"] {
        let g = get(&s, path).await;
        assert_eq!(g.status, 404, "{path}");
        assert_eq!(g.json()[0]["code"], 404);
        assert!(g.json()[0]["description"].is_string());
    }
    let g = get(&s, "services/volcano.xml").await;
    assert_eq!((g.status, g.content_type.as_str()), (404, XML));
    let doc = g.xml();
    assert!(doc.root_element().has_tag_name("errors"));
    let err = doc
        .descendants()
        .find(|n| n.has_tag_name("error"))
        .expect("error");
    assert_eq!(child(err, "code"), Some("404"));
    assert_eq!(get(&s, "nothing.json").await.status, 404);
    assert_eq!(get(&s, "services.txt").await.status, 404);
}

#[tokio::test]
async fn a_resident_reports_through_open311_and_the_case_is_a_whistle() {
    let (s, city, key) = setup().await;
    let filed = post(
        &s,
        "requests.json",
        &[
            ("api_key", key.as_str()),
            ("service_code", "roads"),
            ("lat", "28.5534"),
            ("long", "112.3561"),
            ("address_string", "朝阳路12号"),
            ("description", "朝阳路口井盖缺失\n夜间很危险"),
            ("attribute[hazard]", "cover"),
            ("email", "wangfang@example.cn"),
            ("first_name", "芳"),
            ("last_name", "王"),
            ("phone", "13800000000"),
            ("media_url", "https://example.cn/p/1.jpg"),
        ],
    )
    .await;
    assert_eq!(
        (filed.status, filed.content_type.as_str()),
        (201, JSON),
        "{}",
        filed.text
    );
    let answer = filed.json();
    let id = answer[0]["service_request_id"]
        .as_str()
        .expect("service_request_id")
        .to_string();
    assert!(answer[0]["service_notice"].is_string());
    assert!(answer[0].get("account_id").is_some());
    // Issue 27: the Chinese gives the city's own time, not UTC inside Chinese text.
    let notice = answer[0]["service_notice"].as_str().unwrap_or_default();
    let (zh, _) = notice.split_once(" / ").unwrap_or((notice, ""));
    assert!(zh.contains('年') && !zh.contains('Z'), "{notice}");

    // The same case through /api/v1: the token's community, what the resident gave.
    let w = s.get(&format!("/api/v1/whistles/{id}")).await;
    assert_eq!(w.status, 200);
    assert_eq!(w.body["community_id"], city.communities[0].as_str());
    assert_eq!(w.body["category"], "roads");
    assert_eq!(w.body["title"], "朝阳路口井盖缺失");
    assert_eq!(w.body["attributes"], json!({"hazard": ["cover"]}));
    assert_eq!(
        w.body["reporter"],
        json!({"name": "芳 王", "email": "wangfang@example.cn", "phone": "13800000000"})
    );
    assert_eq!(w.body["media_url"], "https://example.cn/p/1.jpg");
    assert_eq!(w.body["source"], "open311", "where it came from");
    assert_eq!(w.body["urgency"], "normal");
    // …with the same event log: the community's token is the actor.
    let events = s.events(Some(0), 20, Duration::from_millis(500)).await;
    let created = events
        .iter()
        .find(|e| e["subject"] == id.as_str())
        .expect("whistle.created");
    assert_eq!(created["type"], "whistle.created");
    assert_eq!(created["actor"]["name"], "朝阳路社区");

    // XML, with api_key as a query parameter; danger now is urgent.
    let x = post(
        &s,
        &format!("requests.xml?api_key={key}"),
        &[
            ("service_code", "safety"),
            ("address_id", "A-1207"),
            ("description", "广告牌松动，随时可能掉落"),
            ("attribute[danger]", "now"),
        ],
    )
    .await;
    assert_eq!(
        (x.status, x.content_type.as_str()),
        (201, XML),
        "{}",
        x.text
    );
    let doc = x.xml();
    assert!(doc.root_element().has_tag_name("service_requests"));
    let req = doc
        .descendants()
        .find(|n| n.has_tag_name("request"))
        .expect("request");
    let id2 = child(req, "service_request_id").expect("id").to_string();
    let w2 = s.get(&format!("/api/v1/whistles/{id2}")).await;
    assert_eq!(w2.body["urgency"], "urgent");
    assert_eq!(w2.body["address"], "地址编号 A-1207");
    assert!(
        w2.body.get("reporter").is_none(),
        "nobody gave contact details"
    );

    // Multi-value answers as attribute[code][].
    let m = post(
        &s,
        "requests.json",
        &[
            ("api_key", key.as_str()),
            ("service_code", "sanitation"),
            ("lat", "28.55"),
            ("long", "112.35"),
            ("description", "垃圾堆积"),
            ("attribute[waste][]", "household"),
            ("attribute[waste][]", "bulky"),
        ],
    )
    .await;
    assert_eq!(m.status, 201, "{}", m.text);
    let mid = m.json()[0]["service_request_id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let w3 = s.get(&format!("/api/v1/whistles/{mid}")).await;
    assert_eq!(
        w3.body["attributes"],
        json!({"waste": ["household", "bulky"]})
    );
}

#[tokio::test]
async fn refusals_come_in_the_spec_format() {
    let (s, city, key) = setup().await;
    let admin_key = shaozi_tests::TOKEN;
    let good = [
        ("service_code", "noise"),
        ("lat", "28.5"),
        ("long", "112.3"),
        ("description", "广场舞音响太响"),
    ];
    let with = |extra: &[(&'static str, &'static str)], key: Option<&str>| {
        let mut v: Vec<(String, String)> = good
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Some(k) = key {
            v.push(("api_key".into(), k.into()));
        }
        for (k, x) in extra {
            v.retain(|(kk, _)| kk != k);
            if !x.is_empty() {
                v.push((k.to_string(), x.to_string()));
            }
        }
        v
    };
    type Case = (&'static str, Vec<(String, String)>, u16);
    let cases: Vec<Case> = vec![
        ("no api_key", with(&[], None), 403),
        ("unknown api_key", with(&[], Some("not-a-token")), 403),
        ("not a community's key", with(&[], Some(admin_key)), 403),
        (
            "no service_code",
            with(&[("service_code", "")], Some(&key)),
            400,
        ),
        (
            "unknown service_code",
            with(&[("service_code", "volcano")], Some(&key)),
            400,
        ),
        (
            "no location",
            with(&[("lat", ""), ("long", "")], Some(&key)),
            400,
        ),
        ("bad lat", with(&[("lat", "north")], Some(&key)), 400),
        ("lat out of range", with(&[("lat", "95")], Some(&key)), 400),
        (
            "required answer missing",
            with(&[("service_code", "roads")], Some(&key)),
            400,
        ),
        (
            "answer not in the list",
            with(
                &[("service_code", "roads"), ("attribute[hazard]", "volcano")],
                Some(&key),
            ),
            400,
        ),
        (
            "question it does not ask",
            with(&[("attribute[colour]", "red")], Some(&key)),
            400,
        ),
        (
            "bad email",
            with(&[("email", "not-an-email")], Some(&key)),
            400,
        ),
        (
            "bad media_url",
            with(&[("media_url", "javascript:alert(1)")], Some(&key)),
            400,
        ),
        (
            "wrong jurisdiction",
            with(&[("jurisdiction_id", "nyc")], Some(&key)),
            404,
        ),
    ];
    for (what, pairs, want) in cases {
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let g = post(&s, "requests.json", &pairs).await;
        assert_eq!(g.status, want, "{what}: {}", g.text);
        assert_eq!(g.content_type, JSON, "{what}");
        let e = g.json();
        assert_eq!(e[0]["code"], want, "{what}");
        assert!(
            e[0]["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{what}"
        );
        let x = post(&s, "requests.xml", &pairs).await;
        assert_eq!(
            (x.status, x.content_type.as_str()),
            (want, XML),
            "{what} (xml)"
        );
        assert!(x.xml().root_element().has_tag_name("errors"));
    }
    // The right jurisdiction is accepted; a JSON body is not a GeoReport form.
    let ok = post(
        &s,
        "requests.json",
        &[
            ("api_key", key.as_str()),
            ("jurisdiction_id", "shaozi"),
            ("service_code", "noise"),
            ("address_string", "梓山广场"),
        ],
    )
    .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    let j = s
        .client
        .post(format!("{}/open311/v2/requests.json", s.base))
        .json(&json!({"api_key": key, "service_code": "noise"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(j.status().as_u16(), 400);
    let put = s
        .client
        .put(format!("{}/open311/v2/requests.json", s.base))
        .send()
        .await
        .expect("PUT");
    assert_eq!(put.status().as_u16(), 400);
    assert_eq!(
        get(&s, "requests.json?jurisdiction_id=nyc").await.status,
        404
    );
    // Nothing refused above was filed: the one accepted report is the only whistle.
    let all = s.get("/api/v1/whistles?limit=50").await;
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(1));
    let _ = city;
}

#[tokio::test]
async fn a_retried_report_with_its_key_files_once() {
    let (s, _, key) = setup().await;
    let pairs = [
        ("api_key", key.as_str()),
        ("service_code", "noise"),
        ("address_string", "梓山广场"),
        ("description", "夜间施工噪音"),
    ];
    let first = post_with(
        &s,
        "requests.json",
        &pairs,
        &[("Idempotency-Key", "app-42")],
    )
    .await;
    let again = post_with(
        &s,
        "requests.json",
        &pairs,
        &[("Idempotency-Key", "app-42")],
    )
    .await;
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(
        first.json()[0]["service_request_id"],
        again.json()[0]["service_request_id"]
    );
    let all = s.get("/api/v1/whistles?limit=50").await;
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn reports_are_limited_like_the_api() {
    let s = TestServer::start_with(shaozi_server::auth::Limits {
        rate_per_sec: 0.001,
        // The admin's setup takes 9 of its own; the community's key has 10 of its own.
        burst: 10.0,
        streams: 4,
    })
    .await;
    let city = s.small_city().await;
    let key = s
        .token(
            "community",
            json!({"community_id": city.communities[0]}),
            "朝阳路社区",
        )
        .await;
    let pairs = [
        ("api_key", key.as_str()),
        ("service_code", "noise"),
        ("address_string", "梓山广场"),
    ];
    for i in 0..10 {
        assert_eq!(
            post(&s, "requests.json", &pairs).await.status,
            201,
            "report {i}"
        );
    }
    let over = post(&s, "requests.json", &pairs).await;
    assert_eq!(over.status, 429, "{}", over.text);
    assert_eq!(over.json()[0]["code"], 429);
}

/// Files a report through Open311 and returns its id.
async fn report(s: &TestServer, key: &str, code: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("api_key", key),
        ("service_code", code),
        ("lat", "28.55"),
        ("long", "112.35"),
    ];
    pairs.extend_from_slice(extra);
    let g = post(s, "requests.json", &pairs).await;
    assert_eq!(g.status, 201, "{}", g.text);
    g.json()[0]["service_request_id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn requests_are_found_by_id_service_status_date_and_page() {
    let (s, city, key) = setup().await;
    let a = report(&s, &key, "noise", &[("description", "广场舞音响太响")]).await;
    s.clock.advance(chrono::Duration::hours(1));
    let b = report(
        &s,
        &key,
        "roads",
        &[
            ("attribute[hazard]", "pothole"),
            ("description", "路面坑洼"),
        ],
    )
    .await;
    s.clock.advance(chrono::Duration::hours(1));
    let c = report(&s, &key, "noise", &[("description", "夜间施工")]).await;

    // b goes through its whole life from the dispatcher's side.
    let dept = &city.departments[0];
    s.dispatch(&b, dept).await;
    s.ok(
        &format!("/api/v1/whistles/{b}/acknowledge"),
        json!({"staff": ["张伟", "李娜"]}),
        200,
    )
    .await;
    s.ok(
        &format!("/api/v1/whistles/{b}/resolve"),
        json!({"reply": "已修补路面坑洼"}),
        200,
    )
    .await;
    let com = s
        .token(
            "community",
            json!({"community_id": city.communities[0]}),
            "朝阳路社区-2",
        )
        .await;
    let closed = TestServer::send(
        s.req_as(
            &com,
            reqwest::Method::POST,
            &format!("/api/v1/whistles/{b}/close"),
        )
        .json(&json!({"satisfaction": 5})),
    )
    .await;
    assert_eq!(closed.status, 200, "{}", closed.body);

    let ids = |g: &Got| -> Vec<String> {
        g.json()
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["service_request_id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    // Newest first, within the default window.
    let all = get(&s, "requests.json").await;
    assert_eq!(all.content_type, JSON);
    assert_eq!(ids(&all), [c.clone(), b.clone(), a.clone()]);
    assert_eq!(
        ids(&get(
            &s,
            &format!("requests.json?service_request_id={a},{c},W99999")
        )
        .await),
        [a.clone(), c.clone()]
    );
    assert_eq!(
        ids(&get(&s, "requests.json?service_code=noise").await),
        [c.clone(), a.clone()]
    );
    assert_eq!(
        ids(&get(&s, "requests.json?status=closed").await),
        vec![b.clone()]
    );
    assert_eq!(
        ids(&get(&s, "requests.json?status=open").await),
        [c.clone(), a.clone()]
    );
    let from = (t0() + chrono::Duration::minutes(30)).to_rfc3339();
    let to = (t0() + chrono::Duration::minutes(90)).to_rfc3339();
    let q = form(&[("start_date", from.as_str()), ("end_date", to.as_str())]);
    assert_eq!(
        ids(&get(&s, &format!("requests.json?{q}")).await),
        vec![b.clone()]
    );
    assert_eq!(
        ids(&get(&s, "requests.json?page_size=2").await),
        [c.clone(), b.clone()]
    );
    assert_eq!(
        ids(&get(&s, "requests.json?page_size=2&page=2").await),
        vec![a.clone()]
    );
    assert!(ids(&get(&s, "requests.json?page_size=2&page=3").await).is_empty());
    for bad in [
        "requests.json?status=pending",
        "requests.json?start_date=yesterday",
        "requests.json?page=0",
        "requests.json?page_size=5000",
        "requests.json?service_code=volcano",
        "requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-11-01T00:00:00Z",
    ] {
        let g = get(&s, bad).await;
        assert_eq!(g.status, 400, "{bad}: {}", g.text);
        assert_eq!(g.json()[0]["code"], 400, "{bad}");
    }

    // Every field of the closed case, from the whistle.
    let one = get(&s, &format!("requests/{b}.json")).await.json();
    let r = &one[0];
    let w = s.get(&format!("/api/v1/whistles/{b}")).await.body;
    assert_eq!(r["service_request_id"], b.as_str());
    assert_eq!(r["status"], "closed");
    assert_eq!(r["status_notes"], "已修补路面坑洼");
    assert_eq!(r["service_name"], "道路设施");
    assert_eq!(r["service_code"], "roads");
    assert_eq!(r["description"], "路面坑洼");
    assert_eq!(r["agency_responsible"], "市城管局");
    assert_eq!(r["lat"], 28.55);
    assert_eq!(r["long"], 112.35);
    let same_time = |k: &str, wk: &str| {
        let a = chrono::DateTime::parse_from_rfc3339(r[k].as_str().unwrap_or("")).expect(k);
        let b = chrono::DateTime::parse_from_rfc3339(w[wk].as_str().unwrap_or("")).expect(wk);
        assert_eq!(a, b, "{k}");
        assert!(
            r[k].as_str().unwrap_or("").ends_with('Z'),
            "{k} has its zone"
        );
    };
    same_time("requested_datetime", "created_at");
    same_time("updated_datetime", "updated_at");
    same_time("expected_datetime", "resolve_by");
    for k in [
        "address",
        "address_id",
        "zipcode",
        "media_url",
        "service_notice",
    ] {
        assert!(r.get(k).is_some(), "{k} present");
    }
    // Who reported it never shows on the public side.
    assert!(!get(&s, "requests.json").await.text.contains("reporter"));

    // The XML carries the same fields.
    let x = get(&s, &format!("requests/{b}.xml")).await;
    assert_eq!(x.content_type, XML);
    let doc = x.xml();
    assert!(doc.root_element().has_tag_name("service_requests"));
    let req = doc
        .descendants()
        .find(|n| n.has_tag_name("request"))
        .expect("request");
    assert_eq!(child(req, "status"), Some("closed"));
    assert_eq!(child(req, "agency_responsible"), Some("市城管局"));
    assert_eq!(child(req, "service_request_id"), Some(b.as_str()));
    let json_keys: Vec<String> = r
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    for k in &json_keys {
        assert!(child(req, k).is_some(), "XML request lacks {k}");
    }

    // Tokens map straight to ids; unknown ones are 404.
    let t = get(&s, &format!("tokens/{a}.json")).await.json();
    assert_eq!(t[0]["service_request_id"], a.as_str());
    assert_eq!(t[0]["token"], a.as_str());
    let tx = get(&s, &format!("tokens/{a}.xml")).await;
    assert_eq!(tx.status, 200);
    assert_eq!(get(&s, "tokens/W424242.json").await.status, 404);
    assert_eq!(get(&s, "requests/W424242.xml").await.status, 404);
    assert_eq!(get(&s, "requests/garbage.json").await.status, 404);

    // The updates feed tells the resident what happened, in order, without staff names.
    let u = get(&s, "servicerequestupdates.json").await;
    assert_eq!(u.status, 200, "{}", u.text);
    let ups: Vec<Value> = u.json().as_array().cloned().unwrap_or_default();
    let for_b: Vec<&Value> = ups
        .iter()
        .filter(|u| u["service_request_id"] == b.as_str())
        .collect();
    let statuses: Vec<&str> = for_b.iter().filter_map(|u| u["status"].as_str()).collect();
    assert_eq!(
        statuses,
        ["open", "open", "open", "open", "closed"],
        "{for_b:?}"
    );
    assert!(for_b[1]["description"]
        .as_str()
        .unwrap_or("")
        .contains("市城管局"));
    assert_eq!(for_b[3]["description"], "已修补路面坑洼");
    for u in &ups {
        for k in [
            "update_id",
            "service_request_id",
            "status",
            "updated_datetime",
            "description",
        ] {
            assert!(u[k].is_string(), "{k} in {u}");
        }
        assert!(u.get("media_url").is_some());
    }
    assert!(!u.text.contains("张伟"), "staff names stay inside");
    let ux = get(&s, "servicerequestupdates.xml").await;
    let doc = ux.xml();
    assert!(doc.root_element().has_tag_name("service_request_updates"));
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("request_update"))
            .count(),
        ups.len()
    );
    // Paged and windowed like requests.
    let first_two = get(&s, "servicerequestupdates.json?page_size=2")
        .await
        .json();
    assert_eq!(first_two.as_array().map(Vec::len), Some(2));
    let later = (t0() + chrono::Duration::minutes(150)).to_rfc3339();
    let q = form(&[("start_date", later.as_str())]);
    assert!(get(&s, &format!("servicerequestupdates.json?{q}"))
        .await
        .json()
        .as_array()
        .is_some_and(Vec::is_empty));
}

#[tokio::test]
async fn careless_and_hostile_input_never_gets_a_500() {
    let (s, _, key) = setup().await;
    let long = "井".repeat(30_000);
    let bodies: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("not a form", "\u{0}\u{1}\u{2}".into()),
        ("bad percent-encoding", format!("api_key={key}&service_code=%ZZ&lat=1&long=2")),
        ("huge description", format!("api_key={key}&service_code=noise&lat=1&long=2&description={long}")),
        ("control characters", format!("api_key={key}&service_code=noise&lat=1&long=2&description=a%07b")),
        ("infinite lat", format!("api_key={key}&service_code=noise&lat=inf&long=2")),
        ("only lat", format!("api_key={key}&service_code=noise&lat=1")),
        ("bracket soup", format!("api_key={key}&service_code=roads&lat=1&long=2&attribute[[]]=x&attribute[=y")),
        ("repeated single answer", format!("api_key={key}&service_code=roads&lat=1&long=2&attribute[hazard]=cover&attribute[hazard]=pothole")),
        ("datetime garbage", "start_date=%FF%FE".into()),
    ];
    for (what, body) in bodies {
        let res = s
            .client
            .post(format!("{}/open311/v2/requests.json", s.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        assert!((400..500).contains(&status), "{what}: {status} {text}");
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(v[0]["code"], status, "{what}: {text}");
    }
    for path in [
        "requests.json?start_date=%FF",
        "requests.json?page_size=-1",
        "requests.json?page=99999999999999999999",
        "requests.json?page=18446744073709551615&page_size=1000",
        "requests.json?service_request_id=,,,W,W-1,W99999999999999999999999",
        "requests/W99999999999999999999999.xml",
        "services/%00.json",
        "tokens/.json",
        "servicerequestupdates.xml?end_date=1970-01-01T00:00:00Z",
        ".json",
        "discovery.",
    ] {
        let g = get(&s, path).await;
        assert!(g.status < 500, "{path}: {} {}", g.status, g.text);
        if g.status >= 400 {
            assert!(g.text.contains(&g.status.to_string()), "{path}: {}", g.text);
        }
    }
    // Nothing hostile was filed.
    let all = s.get("/api/v1/whistles?limit=50").await;
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(0));
}
