// SPDX-License-Identifier: GPL-2.0

//! What the BPF core's C functions return: a value, or a negative errno.

use crate::{
    error::{Error, Result},
    ffi::c_int,
};

/// `ret` when it is not negative, else the error of its negative errno:
/// [`to_result`](crate::error::to_result), keeping the value.
#[inline]
pub(crate) fn check(ret: c_int) -> Result<c_int> {
    if ret < 0 {
        Err(errno(ret))
    } else {
        Ok(ret)
    }
}

/// The error of negative errno `ret`. Out of line: inlined at each call,
/// [`Error::from_errno`]'s warning for an errno out of range would be
/// repeated there.
#[cold]
#[inline(never)]
fn errno(ret: c_int) -> Error {
    Error::from_errno(ret)
}
