//! The source tree's shape, as the architecture asks it: no file under `src/` over 600 lines,
//! and no import cycle among the files of `src/`.
//!
//! A file imports another when it names a path into it through `crate::`, `super::` or
//! `self::` (in a `use`, nested groups included, or inline). Edges between a folder's `mod.rs`
//! (or `lib.rs`) and the files under that folder are left out: re-exports and `super::` are how
//! Rust modules are built. A cycle is a strongly connected set of more than one file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path a file defines, relative to the crate root (`src/sync/mod.rs` is `sync`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file
        .strip_prefix(src)
        .expect("under src/")
        .with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The text without `//` comments (doc comments included) and string literals' contents.
fn code_of(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_string = false;
        let mut prev = '\0';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if !in_string && c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' {
                in_string = !in_string;
            } else if !in_string {
                code.push(c);
            }
            prev = c;
        }
        code.push('\n');
    }
    code
}

/// Every path starting at `crate`, `super` or `self` in `code`, with `a::{b, c::{d}}` groups
/// expanded into `a::b` and `a::c::d`.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        let rest: String = chars[i..chars.len().min(i + 7)].iter().collect();
        let root = ["crate::", "super::", "self::"]
            .into_iter()
            .find(|r| rest.starts_with(r) && starts_word);
        match root {
            Some(_) => {
                let (paths, end) = use_tree(&chars, i);
                found.extend(paths);
                i = end.max(i + 1);
            }
            None => i += 1,
        }
    }
    found
}

/// The paths of the use tree starting at `chars[start]`, and where it ends.
fn use_tree(chars: &[char], start: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    let mut i = start;
    loop {
        let begin = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        if i > begin {
            prefix.push(chars[begin..i].iter().collect::<String>());
        }
        if chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':') {
            i += 2;
            while chars.get(i).is_some_and(|c| c.is_whitespace()) {
                i += 1;
            }
            if chars.get(i) == Some(&'{') {
                let mut paths = Vec::new();
                i += 1;
                loop {
                    while chars.get(i).is_some_and(|c| c.is_whitespace() || *c == ',') {
                        i += 1;
                    }
                    match chars.get(i) {
                        None => return (paths, i),
                        Some('}') => return (paths, i + 1),
                        _ => {}
                    }
                    let (inner, end) = use_tree(chars, i);
                    for path in inner {
                        if path.first().is_some_and(|p| p == "self") {
                            paths.push(prefix.clone());
                        } else {
                            paths.push(prefix.iter().cloned().chain(path).collect());
                        }
                    }
                    // Skip an `as alias` and anything else up to the next item.
                    i = end;
                    while chars.get(i).is_some_and(|c| *c != ',' && *c != '}') {
                        i += 1;
                    }
                }
            }
            continue;
        }
        return (vec![prefix], i.max(start + 1));
    }
}

struct Tree {
    /// Module path → file.
    files: BTreeMap<Vec<String>, PathBuf>,
}

impl Tree {
    /// The file a path lands in: the longest module prefix of it that is a file.
    fn resolve(&self, path: &[String]) -> Option<&PathBuf> {
        (1..=path.len())
            .rev()
            .find_map(|k| self.files.get(&path[..k]))
    }
}

fn is_folder_root(file: &Path) -> bool {
    matches!(
        file.file_name().and_then(|n| n.to_str()),
        Some("mod.rs" | "lib.rs")
    )
}

/// A folder's root and a file under that folder.
fn parent_child(a: &Path, b: &Path) -> bool {
    let under = |root: &Path, other: &Path| {
        is_folder_root(root) && other.starts_with(root.parent().expect("a folder"))
    };
    under(a, b) || under(b, a)
}

fn import_edges(src: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut all = Vec::new();
    rust_files(src, &mut all);
    // The binaries are crates of their own: `crate::` inside them is not the library.
    let library: Vec<PathBuf> = all
        .into_iter()
        .filter(|f| !f.starts_with(src.join("bin")) && f != &src.join("main.rs"))
        .collect();
    let tree = Tree {
        files: library
            .iter()
            .map(|f| (module_of(src, f), f.clone()))
            .collect(),
    };
    let mut edges = BTreeMap::new();
    for file in &library {
        let module = module_of(src, file);
        let text = std::fs::read_to_string(file).expect("a source file");
        let mut targets = BTreeSet::new();
        for path in paths_in(&code_of(&text)) {
            let (root, rest) = path.split_first().expect("a root");
            let target: Vec<String> = match root.as_str() {
                "crate" => rest.to_vec(),
                "self" => module.iter().cloned().chain(rest.iter().cloned()).collect(),
                _ => {
                    let mut base = module.clone();
                    base.pop();
                    let mut rest = rest;
                    while rest.first().is_some_and(|p| p == "super") {
                        base.pop();
                        rest = &rest[1..];
                    }
                    base.into_iter().chain(rest.iter().cloned()).collect()
                }
            };
            if let Some(to) = tree.resolve(&target) {
                if to != file && !parent_child(file, to) {
                    targets.insert(to.clone());
                }
            }
        }
        edges.insert(file.clone(), targets);
    }
    edges
}

/// The strongly connected components of more than one file (Tarjan).
fn cycles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct State<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        found: Vec<Vec<PathBuf>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a PathBuf) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        for w in &s.edges[v] {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.stack.contains(&w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let at = s.stack.iter().rposition(|x| *x == v).expect("on the stack");
            let component: Vec<PathBuf> = s.stack.drain(at..).cloned().collect();
            if component.len() > 1 {
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.found
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_file_under_src_is_over_600_lines() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f)
                .expect("a source file")
                .lines()
                .count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}

#[test]
fn no_import_cycle_among_the_files_of_src() {
    let found = cycles(&import_edges(&src()));
    assert!(found.is_empty(), "import cycles: {found:#?}");
}

/// The check can fail: two files that import each other are one cycle, a chain is none, and a
/// folder's `mod.rs` re-exporting its children is not an edge.
#[test]
fn the_cycle_check_finds_a_planted_cycle_and_nothing_else() {
    let dir = std::env::temp_dir().join(format!("threadproof-layout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("model")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    write("lib.rs", "mod model; mod a; mod b; mod c;\n");
    write("model/mod.rs", "mod inner;\npub use self::inner::X;\n");
    write("model/inner.rs", "use super::super::c::C; pub struct X;\n");
    write(
        "a.rs",
        "use crate::{b::B, c::{self, C as D}};\npub struct A;\n",
    );
    write(
        "b.rs",
        "// crate::a::A in a comment is no edge\npub struct B;\n",
    );
    write(
        "c.rs",
        "pub struct C; fn f() -> crate::model::X { todo!() }\n",
    );
    let edges = import_edges(&dir);
    assert!(cycles(&edges).is_empty(), "a chain is no cycle: {edges:#?}");
    write("b.rs", "use crate::{a::A};\npub struct B;\n");
    let found = cycles(&import_edges(&dir));
    let _ = std::fs::remove_dir_all(&dir);
    let names: Vec<Vec<String>> = found
        .iter()
        .map(|c| {
            let mut names: Vec<String> = c
                .iter()
                .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        })
        .collect();
    assert_eq!(names, vec![vec!["a.rs".to_string(), "b.rs".to_string()]]);
}
