//! The layout of the code: no module of a crate imports, directly or through others, a module
//! that imports it back. An import circle makes a crate one knot to read and to change; each
//! shared name belongs where both sides can take it from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The modules of a crate's `src`, by path (`ledger::catalogue`), with their source text.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(src)
                    .expect("below src")
                    .with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if parts.last().is_some_and(|p| p == "mod") {
                    parts.pop();
                }
                if parts == ["lib"] || parts == ["main"] {
                    parts.clear();
                }
                // `bin/*.rs` are crates of their own.
                if parts.first().is_some_and(|p| p == "bin") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("read module");
                out.insert(parts.join("::"), text);
            }
        }
    }
    out
}

/// Drops `//` comments, so a path named in a comment is no import.
fn code_only(text: &str) -> String {
    text.lines()
        .map(|l| l.split_once("//").map_or(l, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths a module names from `start`, expanding `{a, b::c}` groups: `crate::{a, b::c}` gives
/// `a` and `b::c`.
fn paths_after(code: &str, start: &str) -> Vec<Vec<String>> {
    fn read(rest: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut segs = prefix.to_vec();
        let mut chars = rest;
        loop {
            let ident: String = chars
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if ident.is_empty() {
                if let Some(group) = chars.strip_prefix('{') {
                    // Split the group at its top-level commas.
                    let mut depth = 0;
                    let mut item = String::new();
                    for c in group.chars() {
                        match c {
                            '{' => depth += 1,
                            '}' if depth == 0 => break,
                            '}' => depth -= 1,
                            ',' if depth == 0 => {
                                read(item.trim(), &segs, out);
                                item.clear();
                                continue;
                            }
                            _ => {}
                        }
                        item.push(c);
                    }
                    read(item.trim(), &segs, out);
                    return;
                }
                break;
            }
            chars = &chars[ident.len()..];
            segs.push(ident);
            match chars.strip_prefix("::") {
                Some(more) => chars = more,
                None => break,
            }
        }
        if segs.len() > prefix.len() {
            out.push(segs);
        }
    }
    let mut out = Vec::new();
    for (i, _) in code.match_indices(start) {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        read(&code[i + start.len()..], &[], &mut out);
    }
    out
}

/// Which modules each module imports (ancestors left out: a module may use what its parent
/// declares, and the parent declares it).
fn graph(mods: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for (name, text) in mods {
        let code = code_only(text);
        let here: Vec<String> = if name.is_empty() {
            Vec::new()
        } else {
            name.split("::").map(str::to_owned).collect()
        };
        let parent = &here[..here.len().saturating_sub(1)];
        let mut full: Vec<Vec<String>> = paths_after(&code, "crate::");
        for mut p in paths_after(&code, "super::") {
            // `super::super::x`: one level up for each further `super`.
            let mut base = parent.to_vec();
            while p.first().is_some_and(|s| s == "super") {
                p.remove(0);
                base.pop();
            }
            full.push(base.into_iter().chain(p).collect());
        }
        let mut targets = BTreeSet::new();
        for segs in full {
            // The longest prefix of the path that is a module.
            let found = (1..=segs.len())
                .rev()
                .map(|n| segs[..n].join("::"))
                .find(|cand| mods.contains_key(cand));
            if let Some(target) = found {
                let is_ancestor = *name == target || name.starts_with(&format!("{target}::"));
                if !is_ancestor {
                    targets.insert(target);
                }
            }
        }
        graph.insert(name.clone(), targets);
    }
    graph
}

/// The import circles: strongly connected components of more than one module (Tarjan).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in &self.graph[v] {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    comp.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.found.push(comp);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/")
        .to_path_buf()
}

#[test]
fn no_crate_has_an_import_circle() {
    let mut report = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(crates_dir()).expect("read crates/") {
        let src = entry.expect("entry").path().join("src");
        if !src.is_dir() {
            continue;
        }
        seen += 1;
        for circle in circles(&graph(&modules(&src))) {
            report.push(format!("{}: {}", src.display(), circle.join(" ↔ ")));
        }
    }
    assert!(seen >= 5, "found only {seen} crates under crates/");
    assert!(report.is_empty(), "import circles:\n{}", report.join("\n"));
}

#[test]
fn the_circle_finder_finds_a_circle_through_super_and_groups() {
    let mods: BTreeMap<String, String> = [
        ("", "mod a; mod b;"),
        ("a", "use crate::{b::Thing, c};"),
        ("b", "mod inner;"),
        (
            "b::inner",
            "use super::super::a::X; // crate::c in a comment",
        ),
        ("c", "pub struct C;"),
        ("d", "use crate::c::C;"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let g = graph(&mods);
    assert_eq!(g["a"], ["b", "c"].into_iter().map(String::from).collect());
    assert_eq!(g["b::inner"], ["a"].into_iter().map(String::from).collect());
    // b::inner → a → b is no circle: b is b::inner's parent, and a child's use of its parent
    // is left out; a → b::inner would close one.
    assert!(circles(&g).is_empty());
    let mut closed = mods.clone();
    closed.insert("c".into(), "use crate::d::D;".into());
    assert_eq!(
        circles(&graph(&closed)),
        vec![vec!["c".to_owned(), "d".to_owned()]]
    );
}
