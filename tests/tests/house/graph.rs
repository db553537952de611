//! The house's shape, read from the code itself (issue 26): which module of a crate uses
//! which, so a test can refuse import circles, a screen that imports another screen, and a
//! storage engine that imports the other engine.
//!
//! A module is a file. An edge goes from a file to the file that *defines* what it names: a
//! path through a module's re-exports (`pub use`) is followed to where the item lives, so a
//! facade (`store/mod.rs` re-exporting its children) is not a knot by itself. Code under
//! `#[cfg(test)]` is left out: a test may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// A module's path inside its crate (`["store", "keys"]`); the root is empty.
pub type ModPath = Vec<String>;

/// What one module holds and names.
#[derive(Debug, Default)]
struct Module {
    /// The file it is in (an inline module shares its parent's).
    file: String,
    /// Items it defines by name (types, functions, traits, constants, macros).
    defines: BTreeSet<String>,
    /// Names brought in by `use`: name → the path it stands for, and whether it is re-exported.
    aliases: BTreeMap<String, (Vec<String>, bool)>,
    /// `use x::*`: the paths globbed.
    globs: Vec<Vec<String>>,
    /// Every path it names in code or in a private `use`, as written.
    named: Vec<Vec<String>>,
    /// Its child modules by name.
    children: BTreeSet<String>,
}

/// One crate's modules and the edges between their files.
#[derive(Debug)]
pub struct ImportGraph {
    modules: BTreeMap<ModPath, Module>,
    /// File → the files it uses (never itself).
    pub edges: BTreeMap<String, BTreeSet<String>>,
}

/// Why a crate could not be read.
#[derive(Debug)]
pub struct ReadError(pub String);

impl ImportGraph {
    /// Reads a crate from its root file (`server/src/lib.rs`); file names are given relative
    /// to `base` (the workspace).
    pub fn read(base: &Path, root: &Path) -> Result<ImportGraph, ReadError> {
        let mut modules = BTreeMap::new();
        read_file(base, &base.join(root), Vec::new(), true, &mut modules)?;
        let mut graph = ImportGraph {
            modules,
            edges: BTreeMap::new(),
        };
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (path, module) in &graph.modules {
            let from = module.file.clone();
            let entry = edges.entry(from.clone()).or_default();
            for named in &module.named {
                if let Some(to) = graph.resolve(path, named, 0) {
                    if to != from {
                        entry.insert(to);
                    }
                }
            }
            // A re-export of something outside the module's own subtree is a use of it.
            for (target, exported) in module.aliases.values() {
                if !exported {
                    continue;
                }
                if let Some(abs) = graph.absolute(path, target) {
                    if abs.starts_with(path) {
                        continue;
                    }
                    if let Some(to) = graph.resolve(&Vec::new(), &with_crate(&abs), 0) {
                        if to != from {
                            entry.insert(to);
                        }
                    }
                }
            }
        }
        graph.edges = edges;
        Ok(graph)
    }

    /// The file of the module at `path`.
    fn file_of(&self, path: &[String]) -> Option<String> {
        self.modules.get(path).map(|m| m.file.clone())
    }

    /// A path as written in module `at`, made absolute (without `crate`); `None` for another
    /// crate's or a name this module does not know.
    fn absolute(&self, at: &ModPath, written: &[String]) -> Option<ModPath> {
        self.absolute_within(at, written, 0)
    }

    fn absolute_within(&self, at: &ModPath, written: &[String], depth: usize) -> Option<ModPath> {
        if depth > 16 {
            return None;
        }
        let (first, rest) = written.split_first()?;
        let mut base: ModPath = match first.as_str() {
            "crate" => Vec::new(),
            "self" => at.clone(),
            "super" => {
                let mut up = at.clone();
                up.pop()?;
                let mut rest = rest;
                while let Some(("super", tail)) = rest.split_first().map(|(h, t)| (h.as_str(), t)) {
                    up.pop()?;
                    rest = tail;
                }
                let mut abs = up;
                abs.extend(rest.iter().cloned());
                return Some(abs);
            }
            name => {
                let module = self.modules.get(at)?;
                if module.children.contains(name) {
                    let mut p = at.clone();
                    p.push(name.to_string());
                    p
                } else if let Some((target, _)) = module.aliases.get(name) {
                    if target.len() == written.len() && target.as_slice() == written {
                        return None;
                    }
                    let mut abs = self.absolute_within(at, target, depth + 1)?;
                    abs.extend(rest.iter().cloned());
                    return Some(abs);
                } else {
                    return None;
                }
            }
        };
        base.extend(rest.iter().cloned());
        Some(base)
    }

    /// The file that defines what `written` names from module `at`; a path that stops at a
    /// module (naming the module itself) resolves to nothing: its uses are what count.
    fn resolve(&self, at: &ModPath, written: &[String], depth: usize) -> Option<String> {
        if depth > 16 {
            return None;
        }
        let abs = self.absolute(at, written)?;
        let mut module: ModPath = Vec::new();
        for (i, segment) in abs.iter().enumerate() {
            let mut child = module.clone();
            child.push(segment.clone());
            if self.modules.contains_key(&child) {
                module = child;
                continue;
            }
            let m = self.modules.get(&module)?;
            if m.defines.contains(segment) {
                return self.file_of(&module);
            }
            if let Some((target, _)) = m.aliases.get(segment) {
                let mut through = target.clone();
                through.extend(abs[i + 1..].iter().cloned());
                return self.resolve(&module, &through, depth + 1);
            }
            for glob in &m.globs {
                let mut through = glob.clone();
                through.extend(abs[i..].iter().cloned());
                if let Some(found) = self.resolve(&module, &through, depth + 1) {
                    return Some(found);
                }
            }
            // A variant, a method, a macro-made name: it belongs to the module reached.
            return self.file_of(&module);
        }
        None
    }

    /// The strongly connected sets of files with more than one file: the import circles.
    pub fn circles(&self) -> Vec<BTreeSet<String>> {
        strongly_connected(&self.edges)
            .into_iter()
            .filter(|c| c.len() > 1)
            .collect()
    }
}

fn with_crate(abs: &[String]) -> Vec<String> {
    let mut p = vec!["crate".to_string()];
    p.extend(abs.iter().cloned());
    p
}

/// Tarjan's algorithm, iterative enough for a crate's few hundred files.
fn strongly_connected(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        found: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(out) = s.edges.get(v) {
            for w in out {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(lw));
                } else if s.on_stack.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(iw));
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut set = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                set.insert(w.to_string());
                if w == v {
                    break;
                }
            }
            s.found.push(set);
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta
                .require_list()
                .map(|l| l.tokens.to_string().split_whitespace().any(|t| t == "test"))
                .unwrap_or(false)
    })
}

fn read_file(
    base: &Path,
    file: &Path,
    path: ModPath,
    owns_dir: bool,
    modules: &mut BTreeMap<ModPath, Module>,
) -> Result<(), ReadError> {
    let text =
        std::fs::read_to_string(file).map_err(|e| ReadError(format!("{}: {e}", file.display())))?;
    let ast = syn::parse_file(&text).map_err(|e| ReadError(format!("{}: {e}", file.display())))?;
    let name = file
        .strip_prefix(base)
        .unwrap_or(file)
        .to_string_lossy()
        .into_owned();
    // Where this file's `mod x;` children live.
    let dir: PathBuf = if owns_dir {
        file.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        file.with_extension("")
    };
    read_items(base, &name, &dir, &ast.items, path, modules)
}

fn read_items(
    base: &Path,
    file: &str,
    dir: &Path,
    items: &[syn::Item],
    path: ModPath,
    modules: &mut BTreeMap<ModPath, Module>,
) -> Result<(), ReadError> {
    let mut module = Module {
        file: file.to_string(),
        ..Module::default()
    };
    let mut later: Vec<(String, Option<Vec<syn::Item>>)> = Vec::new();
    for item in items {
        let attrs: &[syn::Attribute] = match item {
            syn::Item::Const(i) => &i.attrs,
            syn::Item::Enum(i) => &i.attrs,
            syn::Item::Fn(i) => &i.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Mod(i) => &i.attrs,
            syn::Item::Static(i) => &i.attrs,
            syn::Item::Struct(i) => &i.attrs,
            syn::Item::Trait(i) => &i.attrs,
            syn::Item::Type(i) => &i.attrs,
            syn::Item::Union(i) => &i.attrs,
            syn::Item::Use(i) => &i.attrs,
            syn::Item::Macro(i) => &i.attrs,
            _ => &[],
        };
        if is_test_only(attrs) {
            continue;
        }
        match item {
            syn::Item::Mod(m) => {
                let name = m.ident.to_string();
                module.children.insert(name.clone());
                later.push((name, m.content.as_ref().map(|(_, items)| items.clone())));
                continue;
            }
            syn::Item::Use(u) => {
                let exported = !matches!(u.vis, syn::Visibility::Inherited);
                let mut leaves = Vec::new();
                use_leaves(&u.tree, Vec::new(), &mut leaves);
                for (full, alias) in leaves {
                    match alias {
                        Some(name) => {
                            if !exported {
                                module.named.push(full.clone());
                            }
                            module.aliases.insert(name, (full, exported));
                        }
                        None => module.globs.push(full),
                    }
                }
                continue;
            }
            syn::Item::Const(i) => {
                module.defines.insert(i.ident.to_string());
            }
            syn::Item::Enum(i) => {
                module.defines.insert(i.ident.to_string());
            }
            syn::Item::Fn(i) => {
                module.defines.insert(i.sig.ident.to_string());
            }
            syn::Item::Static(i) => {
                module.defines.insert(i.ident.to_string());
            }
            syn::Item::Struct(i) => {
                module.defines.insert(i.ident.to_string());
            }
            syn::Item::Trait(i) => {
                module.defines.insert(i.ident.to_string());
            }
            syn::Item::Type(i) => {
                module.defines.insert(i.ident.to_string());
            }
            syn::Item::Union(i) => {
                module.defines.insert(i.ident.to_string());
            }
            syn::Item::Macro(i) => {
                if let Some(id) = &i.ident {
                    module.defines.insert(id.to_string());
                }
            }
            _ => {}
        }
        let mut paths = PathCollector::default();
        paths.visit_item(item);
        module.named.extend(paths.found);
    }
    modules.insert(path.clone(), module);
    for (name, inline) in later {
        let mut child = path.clone();
        child.push(name.clone());
        match inline {
            Some(items) => read_items(base, file, &dir.join(&name), &items, child, modules)?,
            None => {
                let flat = dir.join(format!("{name}.rs"));
                if flat.exists() {
                    read_file(base, &flat, child, false, modules)?;
                } else {
                    read_file(base, &dir.join(&name).join("mod.rs"), child, true, modules)?;
                }
            }
        }
    }
    Ok(())
}

/// A `use` tree's leaves: the full path and the name it binds (`None` for a glob).
fn use_leaves(
    tree: &syn::UseTree,
    prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            let mut next = prefix;
            next.push(p.ident.to_string());
            use_leaves(&p.tree, next, out);
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name == "self" {
                let bound = prefix.last().cloned();
                out.push((prefix, bound));
            } else {
                let mut full = prefix;
                full.push(name.clone());
                out.push((full, Some(name)));
            }
        }
        syn::UseTree::Rename(r) => {
            let mut full = prefix;
            let name = r.ident.to_string();
            if name != "self" {
                full.push(name);
            }
            out.push((full, Some(r.rename.to_string())));
        }
        syn::UseTree::Glob(_) => out.push((prefix, None)),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_leaves(t, prefix.clone(), out);
            }
        }
    }
}

/// Every path of two or more segments in an item, leaving test-only parts out.
#[derive(Default)]
struct PathCollector {
    found: Vec<Vec<String>>,
}

impl<'ast> Visit<'ast> for PathCollector {
    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.segments.len() >= 2 && p.leading_colon.is_none() {
            self.found
                .push(p.segments.iter().map(|s| s.ident.to_string()).collect());
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        // A `use` inside a function: what it names is used there.
        let mut leaves = Vec::new();
        use_leaves(&u.tree, Vec::new(), &mut leaves);
        self.found.extend(leaves.into_iter().map(|(full, _)| full));
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_test_only(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_test_only(&f.attrs) {
            syn::visit::visit_impl_item_fn(self, f);
        }
    }
}
