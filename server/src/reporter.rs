//! Who reported a case (a resident's name, phone, e-mail) is for those who handle it: the
//! city office, dispatchers and called departments ([`Principal::sees_reporters`]). Everyone
//! else gets the record without it: lists and a case's detail, the event stream (live and
//! replayed), and webhook deliveries. Open311 and the robots' messages never carry it.

use std::borrow::Cow;

use shaozi_shared::{Principal, Whistle};

/// The whistle as `who` may read it.
pub fn strip(mut w: Whistle, who: &Principal) -> Whistle {
    if !who.sees_reporters() {
        w.reporter = None;
        w.also_reported = Vec::new();
    }
    w
}

/// A stored event's JSON as `who` may read it: its record without the reporter when `who` may
/// not see one. Only events whose record has one are parsed again.
pub fn event_for<'a>(json: &'a str, who: &Principal) -> Cow<'a, str> {
    if who.sees_reporters()
        || !(json.contains("\"reporter\":{") || json.contains("\"also_reported\":["))
    {
        return Cow::Borrowed(json);
    }
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(json) else {
        return Cow::Borrowed(json);
    };
    if let Some(record) = v.get_mut("record").and_then(|r| r.as_object_mut()) {
        if let Some(r) = record.get_mut("reporter") {
            *r = serde_json::Value::Null;
        }
        record.remove("also_reported");
    }
    match serde_json::to_string(&v) {
        Ok(s) => Cow::Owned(s),
        // Never send what could not be cleaned.
        Err(_) => Cow::Owned(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shaozi_shared::{Role, Scope};

    #[test]
    fn an_event_loses_its_reporter_for_a_viewer_and_a_community_only() {
        let json =
            r#"{"seq":1,"record":{"id":"W1","reporter":{"name":"王阿姨","phone":"13800138000"}}}"#;
        let viewer = Principal::new("v", Role::Viewer, Scope::City);
        let community = Principal::new(
            "c",
            Role::Community,
            Scope::Community(shaozi_shared::CommunityId(1)),
        );
        for who in [&viewer, &community] {
            let out = event_for(json, who);
            assert!(!out.contains("王阿姨") && !out.contains("1380013"), "{out}");
            assert!(out.contains("\"reporter\":null"), "{out}");
        }
        for who in [
            Principal::new("a", Role::Admin, Scope::City),
            Principal::new(
                "d",
                Role::Dispatcher,
                Scope::Street(shaozi_shared::StreetId(1)),
            ),
            Principal::new(
                "p",
                Role::Department,
                Scope::Department(shaozi_shared::DepartmentId(1)),
            ),
        ] {
            assert_eq!(event_for(json, &who), json);
        }
    }
}
