//! The library checked under every checker threadproof has, with one compiled body each:
//! `RUSTFLAGS="--cfg threadproof" cargo test`.
#![cfg(threadproof)]

use threadproof::check;
use user_crate::{settings, sum_of_squares, Queue, Settings};

#[test]
fn the_queue_hands_over_every_item_in_order() {
    check!({
        let queue = Arc::new(Queue::new(1));
        let producer = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || {
                queue.push(1);
                queue.push(2);
            })
        };
        let popped = (queue.pop(), queue.pop());
        producer.join().unwrap();
        popped
    }, |popped| *popped == (1, 2));
}

#[test]
fn the_settings_are_built_once_per_execution() {
    check!({
        let other = thread::spawn(|| settings().workers);
        let mine = settings();
        (mine.workers, other.join().unwrap())
    }, |seen| *seen == (2, 2));
    assert_eq!(settings(), &Settings { workers: 2 });
}

#[test]
fn the_pool_sums_every_job() {
    check!(sum_of_squares(&[1, 2]), |sum| *sum == 5);
}
