// SPDX-License-Identifier: GPL-2.0

//! The fields a struct_ops type's programs may write (`btf_struct_access`):
//! a compile-time table, checked against BTF when the type registers.

use core::marker::PhantomData;

use crate::{
    bindings,
    bpf::{
        btf::{Btf, BtfType, KIND_STRUCT},
        verifier::VerifierLog,
    },
    error::{code::*, Result},
    ffi::c_int,
    str::{CStr, CStrExt as _},
};

/// An integer field (or array of integers) programs may write, by its path
/// from the struct, its offset and its size as Rust sees them.
///
/// Build one with [`writable_field!`](crate::writable_field).
#[derive(Clone, Copy, Debug)]
pub struct WritableField {
    path: &'static str,
    offset: usize,
    size: usize,
    anywhere: bool,
}

impl WritableField {
    /// The field at `path` (member names joined by `.`, as in C, with no
    /// spaces), at `offset` in the struct and of `size` bytes: writes must
    /// start at its first byte.
    pub const fn new(path: &'static str, offset: usize, size: usize) -> Self {
        Self {
            path,
            offset,
            size,
            anywhere: false,
        }
    }

    /// The same field, writable at any offset inside it (e.g. an array that
    /// holds a program's private state).
    pub const fn anywhere(self) -> Self {
        Self {
            anywhere: true,
            ..self
        }
    }

    /// Whether a write at `off` is to this field.
    fn takes(&self, off: usize) -> bool {
        if self.anywhere {
            off >= self.offset && off - self.offset < self.size
        } else {
            off == self.offset
        }
    }
}

/// The size of the field a closure `|s: &S| &s.field` borrows, in constant
/// contexts (for [`writable_field!`](crate::writable_field)).
#[doc(hidden)]
pub const fn field_size<S, F>(_field: fn(&S) -> &F) -> usize {
    core::mem::size_of::<F>()
}

/// The writable fields of struct_ops type `T`: the struct they belong to,
/// as BTF names it, and the fields.
///
/// # Invariants
///
/// The programs of `T` may store any value in each of `fields`, in any object
/// of the struct `type_name` they are given, whenever they run (the contract
/// of [`WritableFields::new`]; [`WritableFields::NONE`] has no field).
pub struct WritableFields<T> {
    type_name: &'static CStr,
    fields: &'static [WritableField],
    _type: PhantomData<fn(&T)>,
}

impl<T> WritableFields<T> {
    /// No writable field: programs only read.
    // INVARIANT: No field.
    pub const NONE: Self = Self {
        type_name: c"",
        fields: &[],
        _type: PhantomData,
    };

    /// `fields` of the struct BTF names `type_name` (e.g. `tcp_sock`).
    ///
    /// When the type registers, each field must be in BTF where Rust has it,
    /// of the same size, an integer (not a `bool`), an enum or an array of
    /// integers, and reached through structs only (no union); else the type
    /// does not register.
    ///
    /// # Safety
    ///
    /// Programs of `T` may store any value in these fields of any object of
    /// that struct they are given, whenever they run: nothing relies on the
    /// values for soundness (they are not lengths, indices or states the
    /// kernel trusts).
    pub const unsafe fn new(type_name: &'static CStr, fields: &'static [WritableField]) -> Self {
        // INVARIANT: The caller's promise.
        Self {
            type_name,
            fields,
            _type: PhantomData,
        }
    }

    /// Whether there is none.
    pub const fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Finds the struct in `btf` and checks that each field is where Rust
    /// has it, of the same size, and an integer or an array of integers:
    /// the struct, `None` when there are no fields.
    pub(super) fn check<'a>(&self, btf: &'a Btf) -> Result<Option<&'a BtfType>> {
        if self.is_empty() {
            return Ok(None);
        }
        let id = btf.find_by_name_kind(self.type_name, KIND_STRUCT)?;
        let t = btf.type_by_id(id).ok_or(EINVAL)?;
        for f in self.fields {
            let found = find_path(btf, t, f.path);
            let ok = found.is_some_and(|(off, size)| off == f.offset && size == f.size);
            if !ok {
                field_refused(self.type_name, f, found);
                return Err(EINVAL);
            }
        }
        Ok(Some(t))
    }

    /// Decides a write of `size` bytes at `off` into a struct, as
    /// `btf_struct_access` does; `is_target` says whether the struct is the
    /// writable one. The log gets the reason of a refusal.
    pub(super) fn check_write(
        &self,
        is_target: bool,
        off: i32,
        size: i32,
        log: Option<&mut VerifierLog>,
    ) -> Result {
        let name = self.type_name;
        if !is_target {
            crate::bpf_log!(log, "only read is supported\n");
            return Err(EACCES);
        }
        let Some(f) = usize::try_from(off)
            .ok()
            .and_then(|o| self.fields.iter().find(|f| f.takes(o)))
        else {
            crate::bpf_log!(log, "no write support to {name} at off {off}\n");
            return Err(EACCES);
        };
        let end = f.offset + f.size;
        if i64::from(off) + i64::from(size) > end as i64 {
            crate::bpf_log!(
                log,
                "write access at off {off} with size {size} \
                 beyond the member of {name} ended at {end}\n"
            );
            return Err(EACCES);
        }
        Ok(())
    }
}

/// Says in the kernel log why field `f` of struct `type_name` was refused:
/// `found` is where BTF has it, as [`find_path`] returns. Not generic.
#[cold]
fn field_refused(type_name: &CStr, f: &WritableField, found: Option<(usize, usize)>) {
    let fmt = if found.is_some() {
        c"\x013bpf: writable field %s.%.*s: (offset, size) BTF (%zu, %zu), Rust (%zu, %zu)\n"
    } else {
        c"\x013bpf: writable field %s.%.*s: not an integer in BTF, Rust (offset, size) (%zu, %zu)\n"
    };
    let (off, size) = found.unwrap_or((f.offset, f.size));
    // `vsnprintf()` warns about a precision above `i16::MAX`.
    let len = c_int::from(i16::try_from(f.path.len()).unwrap_or(i16::MAX));
    // SAFETY: The format takes, in order: a NUL-terminated string (`%s`), an
    // `int` and as many bytes (`%.*s`, the path's), and `size_t`s (`%zu`,
    // `usize`), of which the second format prints the first two only.
    unsafe {
        bindings::_printk(
            fmt.as_char_ptr(),
            type_name.as_char_ptr(),
            len,
            f.path.as_ptr(),
            off,
            size,
            f.offset,
            f.size,
        )
    };
}

/// The offset and size of the integer (or array of integers) at `path` in
/// struct `t`, through structs only, looking into anonymous ones as C does;
/// components Rust's bindings add for them (`__bindgen_anon_N`) are
/// skipped.
fn find_path(btf: &Btf, t: &BtfType, path: &str) -> Option<(usize, usize)> {
    let mut t = t;
    let mut off = 0usize;
    let mut leaf = None;
    // `writable_field!` writes the path without spaces, as `a.b.`.
    for name in path.as_bytes().split(|&b| b == b'.') {
        if name.is_empty() || name.starts_with(b"__bindgen_anon_") {
            continue;
        }
        if leaf.is_some() {
            // A member of an integer.
            return None;
        }
        let (moff, id) = find_member(btf, t, name, 0)?;
        off = off.checked_add(moff)?;
        let (mt, _) = btf.skip_modifiers(id)?;
        if mt.is_struct() {
            t = mt;
        } else if super::init_member::is_integer(btf, id) {
            leaf = Some(btf.size_of(id).ok()? as usize);
        } else {
            return None;
        }
    }
    Some((off, leaf?))
}

/// The offset and type of member `name` of struct `t`, which may be inside
/// anonymous structs (not unions); bitfields are not found. `depth` bounds
/// the search.
fn find_member(btf: &Btf, t: &BtfType, name: &[u8], depth: u32) -> Option<(usize, u32)> {
    if depth > 8 {
        return None;
    }
    for m in t.members() {
        let mname = btf.name_by_offset(m.name_off()).to_bytes();
        if mname == name {
            return (m.bitfield_size() == 0 && m.is_byte_aligned())
                .then(|| (m.offset(), m.type_id()));
        }
        if mname.is_empty() {
            let Some((inner, _)) = btf.skip_modifiers(m.type_id()) else {
                continue;
            };
            if inner.is_struct() {
                if let Some((off, id)) = find_member(btf, inner, name, depth + 1) {
                    return Some((m.offset().checked_add(off)?, id));
                }
            }
        }
    }
    None
}

/// A [`WritableField`] of struct `$type` (bindgen's) at member path
/// `$field.$field...`, with the offset and size Rust gives it; add
/// `, anywhere` for a field writable at any offset inside it.
///
/// # Examples
///
/// ```
/// use kernel::{bindings, bpf::struct_ops_type::WritableField};
///
/// const FIELDS: &[WritableField] = &[
///     kernel::writable_field!(bindings::tcp_sock, snd_cwnd),
///     kernel::writable_field!(bindings::tcp_sock, inet_conn.icsk_ca_priv, anywhere),
/// ];
/// assert_eq!(FIELDS.len(), 2);
/// ```
#[macro_export]
macro_rules! writable_field {
    ($type:ty, $($field:ident).+) => {
        $crate::bpf::struct_ops_type::WritableField::new(
            ::core::concat!($(::core::stringify!($field), "."),+),
            ::core::mem::offset_of!($type, $($field).+),
            $crate::bpf::struct_ops_type::field_size(|s: &$type| &s.$($field).+),
        )
    };
    ($type:ty, $($field:ident).+, anywhere) => {
        $crate::writable_field!($type, $($field).+).anywhere()
    };
}
