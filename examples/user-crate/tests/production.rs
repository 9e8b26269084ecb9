//! The same library on std's own primitives: `cargo test` without the cfg.
use user_crate::{sum_of_squares, Queue};

#[test]
fn the_library_runs_on_std() {
    let queue = Queue::new(1);
    std::thread::scope(|s| {
        s.spawn(|| (0..3).for_each(|i| queue.push(i)));
        assert_eq!((queue.pop(), queue.pop(), queue.pop()), (0, 1, 2));
    });
    assert_eq!(sum_of_squares(&[1, 2, 3]), 14);
}
