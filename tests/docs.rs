//! The README and `docs/` stay true to the repository: the README carries exactly the kill
//! table `threadproof list --kill-matrix` prints (both come from each variant's own data), it
//! stays a newcomer's page of at most 200 lines, and every repository file that it or a page
//! in `docs/` names exists.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The README's length limit: a newcomer's path, not a manual (details live in `docs/`).
const README_LINES: usize = 200;

/// Where a backticked token without a file extension is still a repository path.
const TOP_LEVEL_DIRS: [&str; 9] = [
    "src/",
    "tests/",
    "models/",
    "benches/",
    "examples/",
    "docs/",
    "snapshots/",
    ".ci/",
    ".github/",
];

/// File extensions that make a backticked token a file name.
const EXTENSIONS: [&str; 10] = [
    ".rs", ".md", ".toml", ".py", ".yml", ".sh", ".json", ".lock", ".snap", ".txt",
];

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text outside fenced code blocks (commands and outputs there are not file references).
fn prose(markdown: &str) -> String {
    let mut fenced = false;
    let mut out = String::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            out += line;
            out.push('\n');
        }
    }
    out
}

/// Whether a backticked token names a repository file or folder, and which.
fn as_repo_path(token: &str) -> Option<&str> {
    // `file.rs:42` names file.rs.
    let token = match token.rsplit_once(':') {
        Some((path, line)) if line.parse::<u32>().is_ok() => path,
        _ => token,
    };
    let templated = token.contains(|c: char| c.is_whitespace() || "<>{}*$|=".contains(c));
    // Build outputs (`target/...`) are never in a clone.
    if templated || token.starts_with("http") || token.starts_with("target/") || token.is_empty() {
        return None;
    }
    let named = TOP_LEVEL_DIRS.iter().any(|dir| token.starts_with(dir))
        || EXTENSIONS.iter().any(|ext| token.ends_with(ext))
        || (token.ends_with('/') && token.len() > 1);
    named.then_some(token)
}

/// Every file in the repository (outside `target/` and `.git/`), for bare file names.
fn repo_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        if path.is_dir() {
            if name != "target" && name != ".git" {
                repo_files(&path, files);
            }
        } else {
            files.push(path);
        }
    }
}

/// Every repository path `markdown` (the file at `page`) names: backticked tokens (relative to
/// the repository; a bare file name, such as a table's `vs_rust.py`, is the top-level file of
/// that name if there is one, else one in any folder) and
/// Markdown links that are not URLs or anchors (relative to the page).
fn named_paths(page: &Path, markdown: &str) -> Vec<PathBuf> {
    let text = prose(markdown);
    let mut files = Vec::new();
    repo_files(Path::new(ROOT), &mut files);
    let mut paths = Vec::new();
    for (i, token) in text.split('`').enumerate() {
        if i % 2 == 1 {
            if let Some(path) = as_repo_path(token) {
                // A bare name at the top level is that file (`Cargo.toml`, though nested
                // crates have one too); otherwise the first file of that name anywhere.
                let at_root = Path::new(ROOT).join(path);
                let bare = !path.contains('/') && !at_root.exists();
                let found = files
                    .iter()
                    .find(|f| f.file_name().is_some_and(|n| n == path));
                match found {
                    Some(file) if bare => paths.push(file.clone()),
                    _ => paths.push(at_root),
                }
            }
        }
    }
    for link in text.split("](").skip(1) {
        let target = link.split(')').next().unwrap_or_default();
        let target = target.split('#').next().unwrap_or_default();
        if !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:") {
            paths.push(page.parent().unwrap().join(target));
        }
    }
    paths
}

fn pages() -> Vec<PathBuf> {
    let mut pages = vec![Path::new(ROOT).join("README.md")];
    let docs = Path::new(ROOT).join("docs");
    let mut in_docs: Vec<PathBuf> = std::fs::read_dir(&docs)
        .expect("docs/ exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    in_docs.sort();
    assert!(!in_docs.is_empty(), "docs/ has no pages");
    pages.extend(in_docs);
    pages
}

#[test]
fn the_readme_carries_the_generated_kill_table() {
    let readme = read(&Path::new(ROOT).join("README.md"));
    let table = threadproof::scenarios::kill_table();
    assert!(
        readme.contains(&table),
        "README.md's kill table differs from `threadproof list --kill-matrix`; paste this:\n{table}"
    );
    assert_eq!(readme.matches("| scenario | mutant | bug |").count(), 1);
}

#[test]
fn the_readme_is_at_most_200_lines() {
    let lines = read(&Path::new(ROOT).join("README.md")).lines().count();
    assert!(
        lines <= README_LINES,
        "README.md has {lines} lines (at most {README_LINES}): move detail to docs/"
    );
}

#[test]
fn every_file_the_docs_name_exists() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for page in pages() {
        for path in named_paths(&page, &read(&page)) {
            checked += 1;
            if !path.exists() {
                missing.push(format!("{} names {}", page.display(), path.display()));
            }
        }
    }
    assert!(missing.is_empty(), "missing files:\n{}", missing.join("\n"));
    assert!(
        checked > 10,
        "only {checked} paths found: the scan is broken"
    );
}

/// The scan itself finds what it must, so that a pass above means something.
#[test]
fn the_path_scan_finds_paths_and_skips_the_rest() {
    let page = Path::new(ROOT).join("README.md");
    let text = "See `src/lib.rs:3`, `bench/python/`, `.ci/run`, [a](docs/ci.md), \
                [b](https://x.org/a.md), `cargo test`, `limits-lock/std-mutex`, `Cargo.toml`.\n\
                ```\n`in/a/fence.rs`\n```\n";
    let found: Vec<PathBuf> = named_paths(&page, text);
    let expected: Vec<PathBuf> = ["src/lib.rs", "bench/python/", ".ci/run", "Cargo.toml"]
        .iter()
        .map(|p| Path::new(ROOT).join(p))
        .chain([Path::new(ROOT).join("docs/ci.md")])
        .collect();
    let mut found_sorted = found.clone();
    found_sorted.sort();
    let mut expected_sorted = expected;
    expected_sorted.sort();
    assert_eq!(found_sorted, expected_sorted);
    assert!(!Path::new(ROOT).join("bench/python/").exists());
}
