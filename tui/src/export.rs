//! `E` on a list of cases: the rows it shows, in its order, as the case ledger (the server's
//! `whistles.csv` columns), written to a new file in the export directory.

use shaozi_shared::ledger::{header_line, row, Names};
use shaozi_shared::Whistle;

use crate::context::Context;
use crate::message::{Effect, Out};

/// The ledger of `cases` (named after `what`: queue, search, a department), as an export.
pub fn ledger<'a>(cx: &Context, what: &str, cases: impl IntoIterator<Item = &'a Whistle>) -> Out {
    let dir = &cx.model.dir;
    let names = Names {
        streets: dir
            .streets
            .iter()
            .map(|(k, v)| (k.0, v.name.clone()))
            .collect(),
        communities: dir
            .communities
            .iter()
            .map(|(k, v)| (k.0, v.name.clone()))
            .collect(),
        departments: dir
            .departments
            .iter()
            .map(|(k, v)| (k.0, v.name.clone()))
            .collect(),
        categories: dir
            .categories
            .iter()
            .map(|c| {
                let name = if cx.zh() { &c.name_zh } else { &c.name_en };
                (c.code.clone(), name.clone())
            })
            .collect(),
        // Times in the dispatcher's zone, as the screens show them.
        offset: cx.tz,
        zh: cx.zh(),
    };
    let mut text = String::from("\u{feff}");
    text.push_str(&header_line(names.zh));
    for w in cases {
        row(&names, w, &mut text);
    }
    let stamp = cx.now.with_timezone(&cx.tz).format("%Y%m%d-%H%M");
    Out::Fx(Effect::WriteCsv {
        file: format!("shaozi-{what}-{stamp}.csv"),
        text,
    })
}
