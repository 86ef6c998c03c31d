// SPDX-License-Identifier: GPL-2.0

//! One member of a new value, as `init_member` sees it: the user's bytes to
//! read and the kernel's to write.

use crate::{
    bindings,
    bpf::{
        btf::{Btf, Member},
        errno::check,
    },
    error::{code::*, Result},
    str::CStr,
    transmute::{AsBytes, FromBytes},
};

/// A member of a value being built from the user's: [`InitMember::read`]
/// reads the user's copy of it, [`InitMember::write`] and
/// [`InitMember::copy_obj_name`] write the kernel's.
///
/// Every access is of the member's own bytes, checked against its size in
/// BTF, and of integer members only (integers but `bool`, enums, arrays of
/// integers): nothing else of either copy can be reached, and no function
/// pointer or other pointer the kernel trusts can be written.
///
/// # Invariants
///
/// `kdata` and `udata` point to `size` bytes each, the first writable and
/// the second readable through this for its lifetime; `member` is a member of
/// the struct they hold, so `offset() + member_size()` is at most `size`.
pub struct InitMember<'a> {
    btf: &'a Btf,
    member: Member<'a>,
    size: usize,
    kdata: *mut u8,
    udata: *const u8,
}

impl<'a> InitMember<'a> {
    /// The member `member` of the value `kdata` (the kernel's) and `udata`
    /// (the user's) hold, `size` bytes each.
    ///
    /// # Safety
    ///
    /// `kdata` and `udata` point to `size` bytes each, the size of
    /// `member`'s struct: the first only written through this while it
    /// lives, the second only read.
    pub(super) unsafe fn new(
        btf: &'a Btf,
        member: Member<'a>,
        size: usize,
        kdata: *mut u8,
        udata: *const u8,
    ) -> Self {
        // INVARIANT: The caller's promise.
        Self {
            btf,
            member,
            size,
            kdata,
            udata,
        }
    }

    /// The member's name.
    #[inline]
    pub fn name(&self) -> &'a CStr {
        self.btf.name_by_offset(self.member.name_off())
    }

    /// The member's offset in the struct, in bytes.
    #[inline]
    pub fn offset(&self) -> usize {
        self.member.offset()
    }

    /// The BTF description of the member.
    #[inline]
    pub fn member(&self) -> &Member<'a> {
        &self.member
    }

    /// The member's bytes: its offset, when the member is an integer (not a
    /// bitfield) of `len` bytes inside the struct.
    fn range(&self, len: usize) -> Result<usize> {
        if self.member.bitfield_size() != 0
            || !self.member.is_byte_aligned()
            || !is_integer(self.btf, self.member.type_id())
        {
            return Err(EINVAL);
        }
        let size = self.btf.size_of(self.member.type_id())? as usize;
        let off = self.offset();
        if size != len || off.checked_add(size).is_none_or(|end| end > self.size) {
            return Err(EINVAL);
        }
        Ok(off)
    }

    /// The user's value of the member, which must be a `T` (same size).
    pub fn read<T: FromBytes>(&self) -> Result<T> {
        let off = self.range(core::mem::size_of::<T>())?;
        // SAFETY: `off..off + size_of::<T>()` is inside the user's copy
        // (checked above, type invariant); any bytes are a valid `T`.
        Ok(unsafe { self.udata.add(off).cast::<T>().read_unaligned() })
    }

    /// Sets the kernel's value of the member, which must be a `T` (same
    /// size).
    pub fn write<T: AsBytes>(&mut self, value: T) -> Result {
        let off = self.range(core::mem::size_of::<T>())?;
        // SAFETY: `off..off + size_of::<T>()` is inside the kernel's copy,
        // ours to write (checked above, type invariant).
        unsafe { self.kdata.add(off).cast::<T>().write_unaligned(value) };
        Ok(())
    }

    /// Copies a name (a `char` array) from the user's value to the kernel's
    /// with the rules of object names (`bpf_obj_name_cpy()`: letters,
    /// digits, `_` and `.`, NUL-terminated within the array): its length,
    /// 0 for an empty name.
    pub fn copy_obj_name(&mut self) -> Result<usize> {
        let len = self.btf.size_of(self.member.type_id())? as usize;
        let off = self.range(len)?;
        let len = u32::try_from(len).map_err(|_| EINVAL)?;
        // SAFETY: Both copies hold `len` bytes at `off` (checked above, type
        // invariant); the kernel's is ours to write.
        let r = unsafe {
            bindings::bpf_obj_name_cpy(self.kdata.add(off).cast(), self.udata.add(off).cast(), len)
        };
        check(r).map(|r| r as usize)
    }
}

/// Whether type `id` is an integer any bytes are a valid value of: a whole
/// integer but `bool`, an enum, or an array of such integers (not of enums).
pub(super) fn is_integer(btf: &Btf, id: u32) -> bool {
    let Some((t, _)) = btf.skip_modifiers(id) else {
        return false;
    };
    if t.is_plain_int() || t.is_enum() {
        return true;
    }
    t.array_elem_type()
        .and_then(|e| btf.skip_modifiers(e))
        .is_some_and(|(e, _)| e.is_plain_int())
}
