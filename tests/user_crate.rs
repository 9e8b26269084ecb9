//! The example user crate (`examples/user-crate/`) pulls threadproof only when it is checked:
//! its production dependency tree (no `--cfg threadproof`) holds nothing but itself, while the
//! checked one holds threadproof. `cargo tree` on its own manifest and lock file (it may fetch
//! from crates.io what a fresh machine lacks).

use std::path::Path;
use std::process::Command;

/// `cargo tree` of the example crate, normal and dev edges, with `rustflags` as RUSTFLAGS.
fn tree(rustflags: Option<&str>) -> String {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/user-crate/Cargo.toml");
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args(["tree", "--locked", "-e", "normal,dev", "--manifest-path"])
        .arg(&manifest)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    if let Some(flags) = rustflags {
        cargo.env("RUSTFLAGS", flags);
    }
    let out = cargo.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn production_builds_pull_no_threadproof_crate() {
    let production = tree(None);
    let crates: Vec<&str> = production
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        crates.len(),
        1,
        "production pulls more than the crate itself:\n{production}"
    );
    assert!(crates[0].starts_with("user-crate v"), "{production}");
    assert!(!production.contains("threadproof"), "{production}");
}

/// Checking pulls threadproof with `default-features = false`: what checking needs (loom,
/// shuttle, parking_lot and their trees), none of the command's crates (`cli`) nor what only
/// the notes' patterns and their processes use (`patterns`).
#[test]
fn checked_builds_pull_threadproof_without_its_command_or_patterns() {
    let checked = tree(Some("--cfg threadproof"));
    assert!(checked.contains("threadproof v"), "{checked}");
    for needed in ["loom v", "shuttle v"] {
        assert!(checked.contains(needed), "{needed} missing:\n{checked}");
    }
    for crate_name in ["clap", "indicatif", "mio", "rustix", "serde", "serde_json"] {
        let listed = checked.lines().any(|line| {
            line.trim_start_matches(['│', '├', '└', '─', ' '])
                .starts_with(&format!("{crate_name} v"))
        });
        assert!(!listed, "{crate_name} is in the checked build:\n{checked}");
    }
}
