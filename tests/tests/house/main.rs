//! The house's shape (issue 26), read from the code: no import circle inside a crate, no
//! screen importing another screen, no storage engine importing the other engine.
//!
//! Where the house is not yet so, what stands is written below exactly; the test fails on
//! anything new *and* on anything listed that is gone, so the lists only ever shrink and
//! always say where the work is.

mod graph;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use graph::ImportGraph;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn crate_graph(root: &str) -> ImportGraph {
    ImportGraph::read(&workspace(), Path::new(root))
        .unwrap_or_else(|e| panic!("reading {root}: {}", e.0))
}

/// The crates whose modules are checked, by their root file.
const CRATES: &[&str] = &["shared/src/lib.rs", "server/src/lib.rs", "tui/src/lib.rs"];

/// `file → file` uses that break a rule and stand today.
const KNOWN_CROSSINGS: &[(&str, &str)] = &[];

fn show_circles(circles: &BTreeSet<BTreeSet<String>>) -> String {
    let mut out = String::new();
    for c in circles {
        let files: Vec<&str> = c.iter().map(String::as_str).collect();
        out.push_str(&format!("  [{}]\n", files.join(", ")));
    }
    out
}

/// The uses inside a circle, to see what to cut: `a → b` per line.
fn inside(graph: &ImportGraph, circle: &BTreeSet<String>) -> String {
    let mut out = String::new();
    for from in circle {
        for to in graph.edges.get(from).into_iter().flatten() {
            if circle.contains(to) {
                out.push_str(&format!("  {from} → {to}\n"));
            }
        }
    }
    out
}

#[test]
fn no_crate_has_an_import_circle() {
    let mut found = BTreeSet::new();
    let mut uses = String::new();
    for root in CRATES {
        let graph = crate_graph(root);
        for circle in graph.circles() {
            uses.push_str(&inside(&graph, &circle));
            uses.push('\n');
            found.insert(circle);
        }
    }
    assert!(
        found.is_empty(),
        "modules that import each other in a circle (a file of one must not use a file that \
         leads back to it; put what both need in a third that uses neither):\n{}\nthe uses \
         inside them:\n{uses}",
        show_circles(&found)
    );
}

/// Where a file's rule puts it: a screen of the dashboard, or a storage engine.
fn room(file: &str) -> Option<String> {
    if let Some(rest) = file.strip_prefix("tui/src/screens/") {
        let screen = rest.split('/').next().unwrap_or(rest);
        let screen = screen.trim_end_matches(".rs");
        // The screens' shared parts (the trait, the windowed table) are not a screen.
        if screen == "mod" || screen == "table" {
            return None;
        }
        return Some(format!("screen {screen}"));
    }
    for engine in ["server/src/store/", "server/src/pg/"] {
        if file.starts_with(engine) {
            return Some(format!("engine {engine}"));
        }
    }
    None
}

#[test]
fn no_screen_uses_another_screen_and_no_engine_uses_the_other() {
    let mut found = BTreeSet::new();
    for root in CRATES {
        for (from, tos) in &crate_graph(root).edges {
            let Some(home) = room(from) else { continue };
            for to in tos {
                if let Some(there) = room(to) {
                    if there != home {
                        found.insert((from.clone(), to.clone()));
                    }
                }
            }
        }
    }
    let listed: BTreeSet<(String, String)> = KNOWN_CROSSINGS
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let new: Vec<_> = found.difference(&listed).collect();
    let gone: Vec<_> = listed.difference(&found).collect();
    let mut now = String::from("const KNOWN_CROSSINGS: &[(&str, &str)] = &[\n");
    for (a, b) in &found {
        now.push_str(&format!("    (\"{a}\", \"{b}\"),\n"));
    }
    now.push_str("];\n");
    assert!(
        new.is_empty() && gone.is_empty(),
        "crossings changed.\nnew: {new:#?}\ngone: {gone:#?}\nwhat stands now:\n{now}"
    );
}

/// The reader itself: a crate made here with a circle through a re-export, and one without.
#[test]
fn the_reader_sees_a_circle_through_a_facade_and_not_a_facade_alone() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("store")).expect("store dir");
    let write = |p: &str, t: &str| std::fs::write(src.join(p), t).expect("write");
    write("lib.rs", "pub mod store;\npub mod auth;\npub mod error;\n");
    // The facade re-exports its child; neither is a circle with the other.
    write(
        "store/mod.rs",
        "mod keys;\npub use keys::Key;\npub struct Store;\n",
    );
    write(
        "store/keys.rs",
        "pub struct Key(super::Store);\nfn k() -> crate::store::Store { todo!() }\n",
    );
    write(
        "auth.rs",
        "use crate::error::Problem;\npub struct Token;\npub fn f(_: Problem) {}\n",
    );
    write(
        "error.rs",
        "pub struct Problem;\npub fn g() -> crate::store::Key { todo!() }\n",
    );
    let calm = ImportGraph::read(dir.path(), Path::new("src/lib.rs")).expect("read");
    // The child names its parent's Store; the parent only re-exports the child, which is
    // not a use of it.
    assert!(calm.circles().is_empty(), "{:?}", calm.circles());
    assert!(
        calm.edges["src/error.rs"].contains("src/store/keys.rs"),
        "a re-exported item is followed to its file: {:?}",
        calm.edges
    );
    // Now store's key names auth: auth → error → store/keys → auth.
    write(
        "store/keys.rs",
        "pub struct Key(super::Store, crate::auth::Token);\n",
    );
    let knotted = ImportGraph::read(dir.path(), Path::new("src/lib.rs")).expect("read");
    let circle: BTreeSet<String> = ["src/auth.rs", "src/error.rs", "src/store/keys.rs"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert!(
        knotted.circles().contains(&circle),
        "{:?}",
        knotted.circles()
    );
}
