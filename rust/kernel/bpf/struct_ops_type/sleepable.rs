// SPDX-License-Identifier: GPL-2.0

//! The members of a struct_ops type that sleepable programs may implement.

use crate::str::CStr;
use core::marker::PhantomData;

/// The members of struct_ops type `T` that a sleepable program may
/// implement, by name; the table refuses sleepable programs for all others
/// (Linux 7.3's core does not).
///
/// # Invariants
///
/// The subsystem calls the members named in `names` only where it may sleep
/// (the contract of [`SleepableMembers::new`]; [`SleepableMembers::NONE`]
/// names none).
pub struct SleepableMembers<T> {
    names: &'static [&'static CStr],
    _type: PhantomData<fn(&T)>,
}

impl<T> SleepableMembers<T> {
    /// No member: sleepable programs are refused.
    // INVARIANT: No member.
    pub const NONE: Self = Self {
        names: &[],
        _type: PhantomData,
    };

    /// The members named `names`.
    ///
    /// # Safety
    ///
    /// The subsystem calls these members of `T` only where it may sleep
    /// (process context, no spinlock or RCU read-side section held).
    pub const unsafe fn new(names: &'static [&'static CStr]) -> Self {
        // INVARIANT: The caller's promise.
        Self {
            names,
            _type: PhantomData,
        }
    }

    /// Whether the member named `name` is one of them.
    pub(super) fn has(&self, name: &CStr) -> bool {
        self.names.contains(&name)
    }
}
