//! The gallery's programs on raw loom (the bugs it can express): each file mounted here with `rt` set to
//! [`super::rt::raw_loom`].

use super::rt::raw_loom as rt;

#[path = "asyncappender.rs"]
pub mod asyncappender;
#[path = "attach.rs"]
pub mod attach;
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
#[path = "seqlock.rs"]
pub mod seqlock;
#[path = "treiber.rs"]
pub mod treiber;
#[path = "vpx_once.rs"]
pub mod vpx_once;
