//! The Python notes' own data, in one place: the urls and retry values the patterns call
//! `api_call` with, the singleton's connection string and its range, and the printers' sizes.
//!
//! Invariant: every scenario takes its notes' values from here, so the Rust outputs and the
//! notes' outputs are built from the same numbers; made-up values beyond the notes' (more
//! threads than the notes start) are built here too, after the notes' own.

use std::ops::RangeInclusive;

/// The four sites of every `api_call` in the notes (`In[2]-[9]`).
pub const URLS: [&str; 4] = [
    "https://google.com",
    "https://facebook.com",
    "https://reddit.com",
    "https://instagram.com",
];

/// `In[2]-[3]`: each thread's `retry_duration`, site by site.
pub const APPEND_RETRIES: [u32; 4] = [10, 5, 5, 15];

/// `In[4]`, `In[8]` and `In[9]`: every submitted call's `retry_duration`.
pub const POOL_RETRY: u32 = 10;

/// `In[73]`: `f"SOME CONNECTION - {random.randint(1,10)}"`, its prefix and range.
pub const CONNECTION_PREFIX: &str = "SOME CONNECTION - ";
pub const CONNECTION_R: RangeInclusive<u32> = 1..=10;
/// The r the notes' run printed, five times.
pub const PRINTED_R: u32 = 4;
/// How many lines the notes' singleton cell printed.
pub const SINGLETON_CALLS: usize = 5;

/// `In[7]-[8]` (RunNumbers): how many named threads print.
pub const COUNTER_THREADS: usize = 3;

/// `In[9]-[11]` (NumberPrinter): three threads print 1..=15.
pub const TURNS_THREADS: usize = 3;
pub const TURNS_LAST: usize = 15;

/// How many worker processes the notes' pools start (`In[4]`, `In[8]`, `In[9]`).
pub const POOL_WORKERS: usize = 3;

/// One call of the notes' `api_call(url, retry_duration)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiCall {
    pub url: String,
    pub retry: u32,
}

impl ApiCall {
    pub fn new(url: impl Into<String>, retry: u32) -> Self {
        ApiCall {
            url: url.into(),
            retry,
        }
    }

    /// The notes' `url + str(retry_duration)`.
    pub fn result(&self) -> String {
        format!("{}{}", self.url, self.retry)
    }
}

/// `count` calls: the notes' four sites first, each with `retry(i)`, then made-up sites.
pub fn calls(count: usize, retry: impl Fn(usize) -> u32) -> Vec<ApiCall> {
    (0..count)
        .map(|i| match URLS.get(i) {
            Some(url) => ApiCall::new(*url, retry(i)),
            None => ApiCall::new(format!("https://site{i}.example"), retry(i)),
        })
        .collect()
}

/// `In[2]-[3]`'s calls, extended to `count` with retry 10.
pub fn append_calls(count: usize) -> Vec<ApiCall> {
    calls(count, |i| APPEND_RETRIES.get(i).copied().unwrap_or(10))
}

/// `In[4]/[8]/[9]`'s calls (retry 10), extended to `count`.
pub fn pool_calls(count: usize) -> Vec<ApiCall> {
    calls(count, |_| POOL_RETRY)
}
