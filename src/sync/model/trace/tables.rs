//! The tables of one recorded execution: the threads and the objects its rows name, by index,
//! and the labels those objects get (`Kind#n`, or the name their creator gave), built once when
//! a trace is taken or a value names one.
//!
//! Invariant: finding a thread or object already seen allocates nothing and counts no
//! reference; an object's label depends only on the order in which objects first appeared,
//! never on when it is built.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::sync::Primitives;

/// Who a primitive is in a trace: a number drawn when it was made, never drawn again in the
/// process. Not its address: a primitive made where a dropped one lived is another object, and
/// one moved after its first operation is still itself, whatever the allocator does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Serial(u64);

impl Serial {
    /// A new primitive's serial under the model backends; production draws none (all are 0:
    /// nothing is recorded there).
    fn next<P: Primitives>() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Serial(if P::MODEL {
            NEXT.fetch_add(1, Ordering::Relaxed)
        } else {
            0
        })
    }
}

/// What an operation acts on: a primitive by its [`Serial`] (labelled `Kind#n` in order of
/// first appearance, or by the name its creator gave it), or a thread by name.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Object<'a> {
    Primitive {
        kind: &'static str,
        serial: Serial,
        name: Option<&'a str>,
    },
    Thread(&'a Arc<str>),
    /// Something with one name in every execution (`memory`, for fences).
    Global(&'static str),
}

/// Who a primitive is in traces: the serial it drew when made, and the name its maker gave it.
pub(crate) struct Identity {
    serial: Serial,
    name: Option<Arc<str>>,
}

impl Identity {
    /// A new primitive's identity on backend `P`, named `name` instead of `Kind#n`.
    pub(crate) fn new<P: Primitives>(name: Option<Arc<str>>) -> Self {
        Identity {
            serial: Serial::next::<P>(),
            name,
        }
    }

    /// The same primitive (its serial kept), named `name`.
    pub(crate) fn named(self, name: Arc<str>) -> Self {
        Identity {
            name: Some(name),
            ..self
        }
    }

    /// The primitive, of kind `kind`, as an operation acts on it.
    pub(crate) fn object(&self, kind: &'static str) -> Object<'_> {
        Object::Primitive {
            kind,
            serial: self.serial,
            name: self.name.as_deref(),
        }
    }
}

/// What an object of the recording is, to find it again and to label it.
enum Seen {
    /// A primitive by serial: `Kind#n`, n counting the primitives of its kind in order of
    /// first appearance, unless its creator named it (then `label` is set at once).
    Primitive {
        kind: &'static str,
        serial: Serial,
        n: usize,
    },
    /// A thread (its name, by address).
    Thread(Arc<str>),
    Global(&'static str),
}

/// An object of the recording and its label, built when first asked for.
struct Entry {
    seen: Seen,
    label: Option<Arc<str>>,
}

impl Entry {
    fn label(&mut self) -> Arc<str> {
        if let Some(label) = &self.label {
            return Arc::clone(label);
        }
        let label: Arc<str> = match &self.seen {
            Seen::Primitive { kind, n, .. } => Arc::from(format!("{kind}#{n}")),
            Seen::Thread(name) => Arc::clone(name),
            Seen::Global(name) => Arc::from(*name),
        };
        self.label = Some(Arc::clone(&label));
        label
    }

    /// The label's text, without building it for good (to compare names with).
    fn text(&self) -> Cow<'_, str> {
        match (&self.label, &self.seen) {
            (Some(label), _) => Cow::Borrowed(&**label),
            (None, Seen::Primitive { kind, n, .. }) => format!("{kind}#{n}").into(),
            (None, Seen::Thread(name)) => Cow::Borrowed(&**name),
            (None, Seen::Global(name)) => Cow::Borrowed(name),
        }
    }
}

/// The threads (names, compared by address) and objects seen, in order of first appearance.
#[derive(Default)]
pub(super) struct Tables {
    objects: Vec<Entry>,
    threads: Vec<Arc<str>>,
    /// The index of the thread seen last: usually the next row's.
    last_thread: usize,
}

impl Tables {
    pub(super) fn clear(&mut self) {
        self.objects.clear();
        self.threads.clear();
        self.last_thread = 0;
    }

    /// The threads seen, by index.
    pub(super) fn threads(&self) -> &[Arc<str>] {
        &self.threads
    }

    /// The label of the object at `index`.
    pub(super) fn label(&mut self, index: u32) -> Arc<str> {
        self.objects[index as usize].label()
    }

    /// The index of the thread named `name` (by address: one name per thread context).
    pub(super) fn thread(&mut self, name: &Arc<str>) -> u32 {
        let same = |known: &Arc<str>| Arc::ptr_eq(known, name);
        if self.threads.get(self.last_thread).is_some_and(same) {
            return self.last_thread as u32;
        }
        let index = match self.threads.iter().position(same) {
            Some(index) => index,
            None => {
                self.threads.push(Arc::clone(name));
                self.threads.len() - 1
            }
        };
        self.last_thread = index;
        index as u32
    }

    /// The index of `object` among the objects seen, which it joins if new. A primitive's
    /// label is its user-given name, or `Kind#n`, n counting the objects of that kind in order
    /// of first appearance; a name used twice gets `#2`, `#3` after it.
    pub(super) fn object(&mut self, object: Object<'_>) -> u32 {
        let found = self
            .objects
            .iter()
            .position(|entry| match (&entry.seen, &object) {
                (Seen::Primitive { serial, .. }, Object::Primitive { serial: s, .. }) => {
                    serial == s
                }
                (Seen::Thread(name), Object::Thread(n)) => Arc::ptr_eq(name, n),
                (Seen::Global(name), Object::Global(n)) => name == n,
                _ => false,
            });
        if let Some(index) = found {
            return index as u32;
        }
        let entry = match object {
            Object::Thread(name) => Entry {
                seen: Seen::Thread(Arc::clone(name)),
                label: None,
            },
            Object::Global(name) => Entry {
                seen: Seen::Global(name),
                label: None,
            },
            Object::Primitive { kind, serial, name } => {
                let same_kind = (self.objects.iter())
                    .filter(|e| matches!(e.seen, Seen::Primitive { kind: k, .. } if k == kind))
                    .count();
                let label = name.map(|name| {
                    // Among the primitives' labels, as threads and globals are no rivals.
                    let taken = |label: &str| {
                        (self.objects.iter())
                            .filter(|e| matches!(e.seen, Seen::Primitive { .. }))
                            .any(|e| e.text() == label)
                    };
                    if taken(name) {
                        let n = (2..).find(|n| !taken(&format!("{name}#{n}"))).unwrap_or(2);
                        Arc::from(format!("{name}#{n}"))
                    } else {
                        Arc::from(name)
                    }
                });
                Entry {
                    seen: Seen::Primitive {
                        kind,
                        serial,
                        n: same_kind + 1,
                    },
                    label,
                }
            }
        };
        self.objects.push(entry);
        (self.objects.len() - 1) as u32
    }
}
