//! The gallery's programs on threadproof's loom paths (`threadproof::sync::loom`): each file mounted here with `rt` set to
//! [`super::rt::tp_loom`].

use super::rt::tp_loom as rt;

#[path = "asyncappender.rs"]
pub mod asyncappender;
#[path = "attach.rs"]
pub mod attach;
#[path = "bank.rs"]
pub mod bank;
#[path = "dcl.rs"]
pub mod dcl;
#[path = "dekker.rs"]
pub mod dekker;
#[path = "dining.rs"]
pub mod dining;
#[path = "futuretask.rs"]
pub mod futuretask;
#[path = "hashtable.rs"]
pub mod hashtable;
#[path = "if_not_while.rs"]
pub mod if_not_while;
#[path = "keyring.rs"]
pub mod keyring;
#[path = "pool149.rs"]
pub mod pool149;
#[path = "pool162.rs"]
pub mod pool162;
#[path = "recursive_read.rs"]
pub mod recursive_read;
#[path = "semaphore.rs"]
pub mod semaphore;
#[path = "seqlock.rs"]
pub mod seqlock;
#[path = "straggler.rs"]
pub mod straggler;
#[path = "treiber.rs"]
pub mod treiber;
#[path = "vpx_once.rs"]
pub mod vpx_once;
