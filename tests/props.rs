//! Properties of the production scenarios, over generated parameters, on both production
//! backends (`Std` and `ParkingLot`).
//!
//! - `turns`: for every k in 1..=8 and n in 0..=300, the correct version (`targeted`) and the
//!   seed's version (`notify-all`) print exactly the rotation `Thread-{(i-1)%k}: i` for
//!   i = 1..=n, compared with an expected list built independently of the scenario's invariant.
//! - `appends`: for 1..=8 calls with arbitrary urls and retry numbers, the shared list is a
//!   permutation of what the threads returned, and thread i returned `calls[i].result()`.
//! - zero threads is rejected at configuration time, with an error, for every constructor, so
//!   no run with nobody to take a turn (a hang) can be started.
//!
//! Case counts are modest: every case spawns real threads.

use proptest::prelude::*;
use threadproof::process::World;
use threadproof::scenarios::appends::{ApiCall, Appends, AppendsConfig, AppendsVariant};
use threadproof::scenarios::turns::{Line, Turns, TurnsConfig, TurnsVariant};
use threadproof::scenarios::{Params, Scenario};
use threadproof::sync::{ParkingLot, Primitives, Std};

/// The rotation built by walking the threads round-robin, not from the `(i-1)%k` formula.
fn rotation(k: usize, n: usize) -> Vec<Line> {
    (0..k)
        .cycle()
        .zip(1..=n)
        .map(|(thread, number)| Line { thread, number })
        .collect()
}

/// Runs `turns` on `P` and checks its lines against the rotation.
fn check_turns<P: Primitives>(
    config: &TurnsConfig,
    variant: TurnsVariant,
    expected: &[Line],
) -> Result<(), TestCaseError> {
    let lines = Turns::run::<P>(config, variant, World::Os)
        .map_err(|e| TestCaseError::fail(format!("{} {variant:?}: {e}", P::NAME)))?;
    prop_assert_eq!(
        lines.len(),
        config.n(),
        "{} {:?}: wrong line count",
        P::NAME,
        variant
    );
    prop_assert_eq!(&lines[..], expected, "{} {:?}", P::NAME, variant);
    prop_assert_eq!(Turns::invariant(config, &lines), Ok(()));
    let rendered: Vec<String> = Turns::render(&lines).lines().map(str::to_owned).collect();
    let expected_text: Vec<String> = expected
        .iter()
        .map(|l| format!("Thread-{}: {}", l.thread, l.number))
        .collect();
    prop_assert_eq!(rendered, expected_text);
    Ok(())
}

/// Runs `appends` on `P` and checks the list against the returns and the calls.
fn check_appends<P: Primitives>(calls: &[ApiCall]) -> Result<(), TestCaseError> {
    let config = AppendsConfig::new(calls.to_vec())
        .map_err(|e| TestCaseError::fail(format!("config rejected: {e}")))?;
    let outcome = Appends::run::<P>(&config, AppendsVariant::Locked, World::Os)
        .map_err(|e| TestCaseError::fail(format!("{}: {e}", P::NAME)))?;
    let expected: Vec<String> = calls.iter().map(ApiCall::result).collect();
    prop_assert_eq!(&outcome.returned, &expected, "{}: returned[i]", P::NAME);
    let mut listed = outcome.list.clone();
    let mut returned = outcome.returned.clone();
    listed.sort();
    returned.sort();
    prop_assert_eq!(
        listed,
        returned,
        "{}: list {:?} is not a permutation of returned {:?}",
        P::NAME,
        outcome.list,
        outcome.returned
    );
    prop_assert_eq!(Appends::invariant(&config, &outcome), Ok(()));
    Ok(())
}

fn api_calls() -> impl Strategy<Value = Vec<ApiCall>> {
    prop::collection::vec(
        (any::<String>(), any::<u32>()).prop_map(|(url, retry)| ApiCall::new(url, retry)),
        1..=8,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn turns_targeted_prints_the_rotation(k in 1usize..=8, n in 0usize..=300) {
        let config = TurnsConfig::new(k, n).unwrap();
        let expected = rotation(k, n);
        check_turns::<Std>(&config, TurnsVariant::Targeted, &expected)?;
        check_turns::<ParkingLot>(&config, TurnsVariant::Targeted, &expected)?;
    }

    #[test]
    fn turns_notify_all_prints_the_rotation(k in 1usize..=8, n in 0usize..=300) {
        let config = TurnsConfig::new(k, n).unwrap();
        let expected = rotation(k, n);
        check_turns::<Std>(&config, TurnsVariant::NotifyAll, &expected)?;
        check_turns::<ParkingLot>(&config, TurnsVariant::NotifyAll, &expected)?;
    }

    #[test]
    fn appends_lists_a_permutation_of_the_returns(calls in api_calls()) {
        check_appends::<Std>(&calls)?;
        check_appends::<ParkingLot>(&calls)?;
    }

    #[test]
    fn zero_threads_is_rejected(n in any::<usize>()) {
        let err = TurnsConfig::new(0, n).unwrap_err();
        prop_assert!(err.0.contains("threads"), "unclear error: {}", err);
        let params = Params { threads: Some(0), n: Some(n) };
        prop_assert!(Turns::config(&params).is_err(), "turns accepted zero threads");
        let appends = Appends::config(&Params { threads: Some(0), n: None });
        prop_assert!(appends.is_err(), "appends accepted zero threads");
    }

    #[test]
    fn positive_threads_are_accepted(k in 1usize..=64, n in any::<usize>()) {
        let config = TurnsConfig::new(k, n).unwrap();
        prop_assert_eq!((config.threads(), config.n()), (k, n));
        let params = Params { threads: Some(k), n: Some(n) };
        prop_assert_eq!(Turns::config(&params), Ok(config));
        let appends = AppendsConfig::with_threads(k).unwrap();
        prop_assert_eq!(appends.calls().len(), k);
        let seed = AppendsConfig::seed();
        let shared = k.min(seed.calls().len());
        prop_assert_eq!(&appends.calls()[..shared], &seed.calls()[..shared]);
    }
}

#[test]
fn no_calls_is_rejected() {
    let err = AppendsConfig::new(vec![]).unwrap_err();
    assert!(err.0.contains("threads"), "unclear error: {err}");
    let err = AppendsConfig::with_threads(0).unwrap_err();
    assert!(err.0.contains("threads"), "unclear error: {err}");
    let err = Turns::config(&Params {
        threads: Some(0),
        n: None,
    })
    .unwrap_err();
    assert!(err.0.contains("threads"), "unclear error: {err}");
}

#[test]
fn seed_configs_are_the_notes() {
    let turns = Turns::config(&Params::default()).unwrap();
    assert_eq!((turns.threads(), turns.n()), (3, 15));
    let appends = Appends::config(&Params::default()).unwrap();
    assert_eq!(appends, AppendsConfig::seed());
    let results: Vec<String> = appends.calls().iter().map(ApiCall::result).collect();
    assert_eq!(
        results,
        [
            "https://google.com10",
            "https://facebook.com5",
            "https://reddit.com5",
            "https://instagram.com15"
        ]
    );
}
