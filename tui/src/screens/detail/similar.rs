//! The cases like the one shown (the server's `similar`): listed in its detail so a dispatcher
//! sees at once that a problem is known, and offered to `x` as the original of a duplicate.

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use shaozi_shared::api::Similar;

use crate::context::Context;
use crate::view::Theme;

/// The section's lines: a heading, then each case with why it is alike.
pub fn lines(cx: &Context, similar: &[Similar], theme: Theme) -> Vec<Line<'static>> {
    if similar.is_empty() {
        return Vec::new();
    }
    let zh = cx.zh();
    let mut out = vec![
        Line::from(""),
        Line::from(Span::styled(
            if zh {
                "相似案件（可能重复；x 驳回时已填好最像的一件）"
            } else {
                "Similar cases (maybe the same problem; x offers the closest as the original)"
            },
            theme.muted().add_modifier(Modifier::BOLD),
        )),
    ];
    for s in similar {
        let w = &s.whistle;
        let mut why = Vec::new();
        if s.same_community {
            why.push(if zh {
                "同社区".to_string()
            } else {
                "same community".into()
            });
        }
        if let Some(d) = s.distance_m {
            why.push(format!("{d:.0} m"));
        }
        why.push(if zh {
            format!("相似 {:.0}%", s.score * 100.0)
        } else {
            format!("{:.0}% alike", s.score * 100.0)
        });
        let status = cx.lang.t().status(w.status).to_string();
        out.push(Line::from(vec![
            Span::styled(format!("{:<7}", w.id.to_string()), theme.muted()),
            Span::raw(format!("{}  ", w.title)),
            Span::styled(format!("{} · {}", why.join(" · "), status), theme.muted()),
        ]));
    }
    out
}
