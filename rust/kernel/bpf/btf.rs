// SPDX-License-Identifier: GPL-2.0

//! BPF Type Format: read-only views of a BTF object and its types.
//!
//! C header: [`include/linux/btf.h`](srctree/include/linux/btf.h).

use crate::str::CStrExt as _;
use crate::{
    bindings,
    bpf::errno::check,
    error::{code::*, from_err_ptr, Result},
    str::CStr,
    types::Opaque,
};
use core::ptr::NonNull;

/// A BTF object: vmlinux's or a module's.
///
/// # Invariants
///
/// The wrapped `struct btf` is valid and fully loaded for the lifetime of the
/// reference; BTF objects are immutable once loaded.
#[repr(transparent)]
pub struct Btf(Opaque<bindings::btf>);

// SAFETY: A loaded BTF object is immutable; every accessor only reads it.
unsafe impl Sync for Btf {}
// SAFETY: See above; references to it may cross threads.
unsafe impl Send for Btf {}

impl Btf {
    /// Creates a reference to a BTF object from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` points to a loaded `struct btf` that stays alive for `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *const bindings::btf) -> &'a Self {
        // SAFETY: `Btf` is a transparent wrapper; validity is the caller's promise.
        unsafe { &*ptr.cast() }
    }

    /// The kernel's own BTF, `Ok(None)` when the kernel has none.
    #[inline]
    pub fn vmlinux() -> Result<Option<&'static Btf>> {
        // SAFETY: No preconditions; it returns the parsed vmlinux BTF, an error
        // pointer, or NULL.
        let ptr = from_err_ptr(unsafe { bindings::bpf_get_btf_vmlinux() })?;
        // SAFETY: vmlinux BTF, once parsed, is never freed.
        Ok(NonNull::new(ptr).map(|p| unsafe { Btf::from_raw(p.as_ptr()) }))
    }

    /// The raw pointer, for C calls.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::btf {
        self.0.get()
    }

    /// Whether this is a module's BTF.
    #[inline]
    pub fn is_module(&self) -> bool {
        // SAFETY: `self` is a valid BTF object.
        unsafe { bindings::btf_is_module(self.as_raw()) }
    }

    /// The BTF object's id, as `BPF_BTF_GET_FD_BY_ID` takes it.
    #[inline]
    pub fn obj_id(&self) -> u32 {
        // SAFETY: `self` is a valid BTF object.
        unsafe { bindings::btf_obj_id(self.as_raw()) }
    }

    /// The BTF object's name ("vmlinux" or the module's).
    #[inline]
    pub fn name(&self) -> &CStr {
        // SAFETY: `self` is valid; the name lives as long as the object.
        unsafe { cstr_or_empty(bindings::btf_get_name(self.as_raw())) }
    }

    /// The type with id `id`.
    #[inline]
    pub fn type_by_id(&self, id: u32) -> Option<&BtfType> {
        // SAFETY: `self` is valid; out-of-range ids give NULL.
        let t = unsafe { bindings::btf_type_by_id(self.as_raw(), id) };
        // SAFETY: Types live as long as their BTF object.
        NonNull::new(t.cast_mut()).map(|t| unsafe { BtfType::from_raw(t.as_ptr()) })
    }

    /// The id of the type named `name` of kind `kind` (`BTF_KIND_*`).
    // Not inline: modules that define struct_ops types call it, and C's
    // function is not exported.
    pub fn find_by_name_kind(&self, name: &CStr, kind: u32) -> Result<u32> {
        // SAFETY: `self` is valid and `name` is NUL-terminated.
        let id = unsafe {
            bindings::btf_find_by_name_kind(self.as_raw(), name.as_char_ptr(), kind as u8)
        };
        check(id).map(i32::unsigned_abs)
    }

    /// The string at `offset` in the string section ("" when out of range).
    // Not inline: modules that define struct_ops types call it, and C's
    // function is not exported.
    pub fn name_by_offset(&self, offset: u32) -> &CStr {
        // SAFETY: `self` is valid; out-of-range offsets give NULL.
        unsafe { cstr_or_empty(bindings::btf_name_by_offset(self.as_raw(), offset)) }
    }

    /// The name of `t`.
    #[inline]
    pub fn type_name(&self, t: &BtfType) -> &CStr {
        self.name_by_offset(t.name_off())
    }

    /// Follows modifiers and typedefs from `id` to a pointer and returns the
    /// type pointed to (modifiers skipped) with its id.
    #[inline]
    pub fn resolve_ptr(&self, id: u32) -> Option<(&BtfType, u32)> {
        // The C walk dereferences the type of `id` unchecked.
        self.type_by_id(id)?;
        // SAFETY: `id` is one of the types of `self`, checked above.
        unsafe { self.resolve_ptr_unchecked(id) }
    }

    /// [`Btf::resolve_ptr`] without checking that `id` is one of the types
    /// of `self`, for ids known to be (one C call less).
    ///
    /// # Safety
    ///
    /// `id` is a type of `self`, e.g. that of a member of a struct of `self`.
    #[inline]
    pub(crate) unsafe fn resolve_ptr_unchecked(&self, id: u32) -> Option<(&BtfType, u32)> {
        let mut res_id = 0u32;
        // SAFETY: `self` is valid, `id` one of its types (the caller's
        // promise), whose chain of referenced types BTF verification made
        // valid; `res_id` is writable.
        let t = unsafe { bindings::btf_type_resolve_ptr(self.as_raw(), id, &mut res_id) };
        // SAFETY: Types live as long as their BTF object.
        NonNull::new(t.cast_mut()).map(|t| (unsafe { BtfType::from_raw(t.as_ptr()) }, res_id))
    }

    /// The function prototype `id` points to, when `id` is a function pointer.
    #[inline]
    pub fn resolve_func_ptr(&self, id: u32) -> Option<&BtfType> {
        // The C walk dereferences the type of `id` unchecked.
        self.type_by_id(id)?;
        // SAFETY: `id` is one of the types of `self`, checked above.
        unsafe { self.resolve_func_ptr_unchecked(id) }
    }

    /// [`Btf::resolve_func_ptr`] without checking that `id` is one of the
    /// types of `self`, for ids known to be (one C call less).
    ///
    /// # Safety
    ///
    /// `id` is a type of `self`, e.g. that of a member of a struct of `self`.
    #[inline]
    pub(crate) unsafe fn resolve_func_ptr_unchecked(&self, id: u32) -> Option<&BtfType> {
        // SAFETY: `self` is valid, `id` one of its types (the caller's
        // promise), whose chain of referenced types BTF verification made
        // valid; a NULL `res_id` is allowed.
        let t = unsafe {
            bindings::btf_type_resolve_func_ptr(self.as_raw(), id, core::ptr::null_mut())
        };
        // SAFETY: Types live as long as their BTF object.
        NonNull::new(t.cast_mut()).map(|t| unsafe { BtfType::from_raw(t.as_ptr()) })
    }

    /// The type `id` names once modifiers and typedefs are skipped, with its
    /// id.
    #[inline]
    pub fn skip_modifiers(&self, id: u32) -> Option<(&BtfType, u32)> {
        self.type_by_id(id)?;
        let mut res = 0u32;
        // SAFETY: `self` is valid and `id` one of its types (checked above);
        // `res` is writable.
        let t = unsafe { bindings::btf_type_skip_modifiers(self.as_raw(), id, &mut res) };
        // SAFETY: Types live as long as their BTF object.
        NonNull::new(t.cast_mut()).map(|t| (unsafe { BtfType::from_raw(t.as_ptr()) }, res))
    }

    /// The size in bytes of type `id`, modifiers and typedefs resolved.
    #[inline]
    pub fn size_of(&self, id: u32) -> Result<u32> {
        let t = self.type_by_id(id).ok_or(EINVAL)?;
        let mut size = 0u32;
        // SAFETY: `self` and `t` (one of its types) are valid, `size` is writable.
        let r = unsafe { bindings::btf_resolve_size(self.as_raw(), t.as_raw(), &mut size) };
        from_err_ptr(r.cast_mut())?;
        Ok(size)
    }

    /// Whether type `id` is a pointer to `struct module`, found by name: a
    /// module's BTF may have only a forward declaration of it.
    pub fn is_module_ptr(&self, id: u32) -> bool {
        self.resolve_ptr(id).is_some_and(|(t, _)| {
            (t.is_struct() || t.is_fwd()) && self.type_name(t).to_bytes() == b"module"
        })
    }

    /// Whether `data`, an instance of the struct or union `t` of this BTF,
    /// has a non-zero byte outside every member: in a hole between members
    /// or in the padding at the end. A hole that does not fit in `data` counts
    /// as zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::{bpf::btf::{Btf, KIND_STRUCT}, prelude::*};
    ///
    /// // A struct_ops value: an 8-byte common header, then the ops struct
    /// // at the next cache line.
    /// let btf = Btf::vmlinux()?.ok_or(ENOENT)?;
    /// let name = c"bpf_struct_ops_tcp_congestion_ops";
    /// let t = btf.type_by_id(btf.find_by_name_kind(name, KIND_STRUCT)?).ok_or(ENOENT)?;
    /// let mut value = KVec::from_elem(0u8, t.size() as usize, GFP_KERNEL)?;
    /// assert!(!btf.nonzero_in_holes(t, &value)?);
    /// // The header's refcount is a member.
    /// if let Some(b) = value.get_mut(0) {
    ///     *b = 1;
    /// }
    /// assert!(!btf.nonzero_in_holes(t, &value)?);
    /// // Between the header and the ops is a hole.
    /// if let Some(b) = value.get_mut(8) {
    ///     *b = 1;
    /// }
    /// assert!(btf.nonzero_in_holes(t, &value)?);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn nonzero_in_holes(&self, t: &BtfType, data: &[u8]) -> Result<bool> {
        let nonzero =
            |from: usize, to: usize| from < to && data.get(from..to).is_some_and(|b| !all_zero(b));
        let mut prev_end = 0;
        for member in t.members() {
            let off = member.offset();
            if nonzero(prev_end, off) {
                return Ok(true);
            }
            prev_end = off.saturating_add(self.size_of(member.type_id())? as usize);
        }
        Ok(nonzero(prev_end, t.size() as usize))
    }

    /// Whether parameter `p` (of a function prototype in `self`) is named
    /// with `suffix` at its end, as `__nullable` arguments of CFI stubs are.
    #[inline]
    pub fn param_match_suffix(&self, p: &bindings::btf_param, suffix: &CStr) -> bool {
        // SAFETY: `self` and `p` are valid and `suffix` is NUL-terminated.
        unsafe { bindings::btf_param_match_suffix(self.as_raw(), p, suffix.as_char_ptr()) }
    }

    /// The tag of parameter `p` (of a CFI stub's prototype in `self`), by
    /// the suffix of its name as the BPF core reads it: the first of
    /// [`ArgTag::PRECEDENCE`] that matches, `None` for an untagged one.
    #[inline]
    pub fn param_tag(&self, p: &bindings::btf_param) -> Option<ArgTag> {
        ArgTag::PRECEDENCE
            .into_iter()
            .find(|tag| self.param_match_suffix(p, tag.suffix()))
    }

    /// Whether the function prototype `func_proto` (of `self`) returns a
    /// pointer to anything but a struct (`void *` and union pointers
    /// included), which struct_ops members may not.
    #[inline]
    pub fn returns_non_struct_ptr(&self, func_proto: &BtfType) -> bool {
        let ret = func_proto.type_id();
        ret != 0 && self.resolve_ptr(ret).is_some_and(|(t, _)| !t.is_struct())
    }

    /// The offset of argument `arg_no` of `func_proto` in a trampoline's ctx.
    ///
    /// # Safety
    ///
    /// `func_proto` is a function prototype of this BTF (C looks its
    /// parameter types up in it) and `arg_no` at most its number of
    /// parameters.
    #[inline]
    #[cfg(CONFIG_BPF_STRUCT_OPS_RUST)]
    pub(crate) unsafe fn ctx_arg_offset(&self, func_proto: &BtfType, arg_no: u32) -> Result<u32> {
        // SAFETY: `self` and `func_proto` are valid, the rest is the
        // caller's promise.
        let off =
            unsafe { bindings::btf_ctx_arg_offset(self.as_raw(), func_proto.as_raw(), arg_no) };
        u32::try_from(off).map_err(|_| EINVAL)
    }
}

/// Whether every byte of `bytes` is zero: C's `memchr_inv(bytes, 0, len)`
/// finds no other byte.
///
/// # Examples
///
/// ```
/// use kernel::bpf::btf::all_zero;
///
/// assert!(all_zero(&[0; 19]));
/// let mut b = [0u8; 19];
/// b[18] = 1;
/// assert!(!all_zero(&b));
/// b[18] = 0;
/// b[3] = 1;
/// assert!(!all_zero(&b));
/// assert!(all_zero(&[]));
/// ```
#[inline]
pub fn all_zero(bytes: &[u8]) -> bool {
    // SAFETY: `bytes` is valid for reads of its length.
    unsafe { bindings::memchr_inv(bytes.as_ptr().cast(), 0, bytes.len()) }.is_null()
}

/// What the name of a CFI stub's parameter says of the struct_ops member's
/// argument (`prepare_arg_info()` of `kernel/bpf/bpf_struct_ops.c`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ArgTag {
    /// `*__nullable`: a trusted pointer to a struct or union that may be
    /// NULL.
    Nullable,
    /// `*__ref`: a trusted pointer to a struct or union, with a reference
    /// the program is given and must release or pass on.
    Ref,
    /// `*__arena`: a pointer, of any type, into the program's arena.
    Arena,
    /// `*__arena__nullable`: a pointer, of any type, into the program's
    /// arena, that may be NULL.
    ArenaNullable,
}

impl ArgTag {
    /// The tags in the order the BPF core tries them: `x__arena__nullable`
    /// also ends in `__nullable`, and is an arena pointer.
    pub const PRECEDENCE: [ArgTag; 4] = [
        ArgTag::ArenaNullable,
        ArgTag::Arena,
        ArgTag::Nullable,
        ArgTag::Ref,
    ];

    /// The suffix of the parameter's name, as the BPF core's messages name
    /// it.
    #[inline]
    pub fn suffix(self) -> &'static CStr {
        match self {
            ArgTag::Nullable => c"__nullable",
            ArgTag::Ref => c"__ref",
            ArgTag::Arena => c"__arena",
            ArgTag::ArenaNullable => c"__arena__nullable",
        }
    }

    /// Whether the argument points into an arena.
    #[inline]
    pub fn is_arena(self) -> bool {
        matches!(self, ArgTag::Arena | ArgTag::ArenaNullable)
    }

    /// Whether the argument may point to `pointee` (modifiers skipped):
    /// anything for an arena pointer, else a struct or union.
    #[inline]
    pub fn accepts(self, pointee: &BtfType) -> bool {
        self.is_arena() || pointee.is_struct_or_union()
    }
}

impl Btf {
    /// Prints `obj`, an instance of type `id`, to `m` the way bpffs shows
    /// map values.
    pub fn seq_show(&self, id: u32, obj: &[u8], m: &super::map::SeqFile) {
        let fits = self
            .size_of(id)
            .is_ok_and(|size| size as usize <= obj.len());
        if fits {
            // SAFETY: `obj` holds a whole instance of `id`, which the printer
            // only reads; `m` is a seq_file being shown.
            unsafe {
                bindings::btf_type_seq_show(
                    self.as_raw(),
                    id,
                    obj.as_ptr().cast_mut().cast(),
                    m.as_raw(),
                )
            };
        }
    }
}

/// One BTF type.
///
/// # Invariants
///
/// Wraps a `struct btf_type` inside a loaded BTF object; for kinds with a
/// vlen, the `vlen` members or parameters follow it in memory, for arrays a
/// `struct btf_array`, and for integers their `u32` encoding.
#[repr(transparent)]
pub struct BtfType(Opaque<bindings::btf_type>);

impl BtfType {
    /// Creates a reference to a BTF type from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` points to a type inside a BTF object that stays loaded for `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *const bindings::btf_type) -> &'a Self {
        // SAFETY: `BtfType` is a transparent wrapper; validity is the caller's promise.
        unsafe { &*ptr.cast() }
    }

    /// The raw pointer, for C calls.
    #[inline]
    pub fn as_raw(&self) -> *const bindings::btf_type {
        self.0.get()
    }

    #[inline]
    fn raw(&self) -> &bindings::btf_type {
        // SAFETY: By the type invariant the type is valid and immutable.
        unsafe { &*self.0.get() }
    }

    /// Offset of the name in the string section.
    #[inline]
    pub fn name_off(&self) -> u32 {
        self.raw().name_off
    }

    /// The kind (`BTF_INFO_KIND()`: bits 24-28 of `info`, the UAPI encoding
    /// of `include/uapi/linux/btf.h`).
    #[inline]
    fn kind(&self) -> u32 {
        (self.raw().info >> 24) & 0x1f
    }

    /// The kind flag (`BTF_INFO_KFLAG()`: bit 31 of `info`); for structs and
    /// unions, whether member offsets carry bitfield sizes.
    #[inline]
    fn kind_flag(&self) -> bool {
        self.raw().info >> 31 != 0
    }

    /// The number of members (structs, unions) or parameters (prototypes):
    /// `BTF_INFO_VLEN()`, bits 0-15 of `info`.
    #[inline]
    pub fn vlen(&self) -> u16 {
        (self.raw().info & 0xffff) as u16
    }

    /// Size in bytes, for structs and unions.
    #[inline]
    pub fn size(&self) -> u32 {
        // SAFETY: `size` and `type` share storage; both are plain `u32`s.
        unsafe { self.raw().__bindgen_anon_1.size }
    }

    /// The type referred to, for pointers, modifiers, functions and prototypes
    /// (the return type).
    #[inline]
    pub fn type_id(&self) -> u32 {
        // SAFETY: `size` and `type` share storage; both are plain `u32`s.
        unsafe { self.raw().__bindgen_anon_1.type_ }
    }

    /// Whether this is a function prototype.
    #[inline]
    pub fn is_func_proto(&self) -> bool {
        self.kind() == bindings::BTF_KIND_FUNC_PROTO
    }

    /// Whether this is a struct or a union.
    #[inline]
    pub fn is_struct_or_union(&self) -> bool {
        self.is_struct() || self.kind() == bindings::BTF_KIND_UNION
    }

    /// Whether this is a struct (not a union).
    #[inline]
    pub fn is_struct(&self) -> bool {
        self.kind() == bindings::BTF_KIND_STRUCT
    }

    /// Whether this is an integer.
    #[inline]
    pub fn is_int(&self) -> bool {
        self.kind() == bindings::BTF_KIND_INT
    }

    /// Whether this is a whole integer that any bytes are a valid value of:
    /// not a `bool` (`BTF_INT_BOOL` encoding), and all of its bytes (no bit
    /// offset, as many bits as bytes).
    #[inline]
    pub fn is_plain_int(&self) -> bool {
        let Some(enc) = self.int_encoding() else {
            return false;
        };
        // `BTF_INT_ENCODING()`: bits 24-27; `BTF_INT_OFFSET()`: bits 16-23;
        // `BTF_INT_BITS()`: bits 0-7.
        let (encoding, offset, bits) = ((enc >> 24) & 0xf, (enc >> 16) & 0xff, enc & 0xff);
        encoding & bindings::BTF_INT_BOOL == 0 && offset == 0 && bits == self.size() * 8
    }

    /// Whether this integer or enum is signed (`BTF_INT_SIGNED` of an
    /// integer's encoding, the kind flag of an enum); `false` for other
    /// kinds.
    #[inline]
    pub fn is_signed(&self) -> bool {
        match self.int_encoding() {
            // `BTF_INT_ENCODING()`: bits 24-27.
            Some(enc) => (enc >> 24) & bindings::BTF_INT_SIGNED != 0,
            None => self.is_enum() && self.kind_flag(),
        }
    }

    /// An integer's `u32` encoding, `None` for other kinds.
    #[inline]
    fn int_encoding(&self) -> Option<u32> {
        // SAFETY: By the type invariant, an integer's `u32` encoding follows
        // it in memory, as immutable as it is.
        self.is_int()
            .then(|| unsafe { self.as_raw().add(1).cast::<u32>().read_unaligned() })
    }

    /// Whether this is an enum (`BTF_KIND_ENUM` or `BTF_KIND_ENUM64`).
    #[inline]
    pub fn is_enum(&self) -> bool {
        self.kind() == bindings::BTF_KIND_ENUM || self.kind() == bindings::BTF_KIND_ENUM64
    }

    /// The element type of an array, `None` for other kinds.
    #[inline]
    pub fn array_elem_type(&self) -> Option<u32> {
        if self.kind() != bindings::BTF_KIND_ARRAY {
            return None;
        }
        // SAFETY: By the type invariant, an array's `struct btf_array`
        // follows it in memory, as immutable as it is.
        Some(unsafe { (*self.as_raw().add(1).cast::<bindings::btf_array>()).type_ })
    }

    /// Whether this is a forward declaration.
    #[inline]
    pub fn is_fwd(&self) -> bool {
        self.kind() == bindings::BTF_KIND_FWD
    }

    /// The `vlen` records of type `T` that follow the type in memory.
    ///
    /// # Safety
    ///
    /// `T` is the record type of this type's kind.
    #[inline]
    unsafe fn trailing<T>(&self) -> &[T] {
        // SAFETY: By the type invariant, `vlen` records follow the type, and
        // they are as immutable as it is; the caller says which ones.
        unsafe { core::slice::from_raw_parts(self.as_raw().add(1).cast::<T>(), self.vlen().into()) }
    }

    /// The members of a struct or union (empty for other kinds).
    pub fn members(&self) -> impl Iterator<Item = Member<'_>> {
        let raw: &[bindings::btf_member] = if self.is_struct_or_union() {
            // SAFETY: Members follow a struct or union.
            unsafe { self.trailing() }
        } else {
            &[]
        };
        // INVARIANT: `raw` holds the member records of `self`, a struct or
        // union, in order.
        raw.iter().enumerate().map(move |(index, raw)| Member {
            owner: self,
            raw,
            index,
        })
    }

    /// The parameters of a function prototype (empty for other kinds).
    #[inline]
    pub fn params(&self) -> &[bindings::btf_param] {
        if !self.is_func_proto() {
            return &[];
        }
        // SAFETY: Parameters follow a prototype.
        unsafe { self.trailing() }
    }
}

/// BTF kind of a struct (`BTF_KIND_STRUCT`), for [`Btf::find_by_name_kind`].
pub const KIND_STRUCT: u32 = bindings::BTF_KIND_STRUCT;
/// BTF kind of a function (`BTF_KIND_FUNC`), for [`Btf::find_by_name_kind`].
pub const KIND_FUNC: u32 = bindings::BTF_KIND_FUNC;

/// A member of a struct or union type.
///
/// # Invariants
///
/// `raw` is the `index`-th of the member records that follow `owner`, a
/// struct or union of a loaded BTF object (see [`BtfType`]); so the member's
/// type id, which BTF verification checked, is one of that object's types.
#[derive(Clone, Copy)]
pub struct Member<'a> {
    owner: &'a BtfType,
    raw: &'a bindings::btf_member,
    index: usize,
}

impl<'a> Member<'a> {
    /// The struct or union type the member belongs to.
    #[inline]
    pub fn parent(&self) -> &'a BtfType {
        self.owner
    }

    /// Position among the members, from 0.
    #[inline]
    pub fn index(&self) -> usize {
        self.index
    }

    /// Offset of the name in the string section (0 for anonymous members).
    #[inline]
    pub fn name_off(&self) -> u32 {
        self.raw.name_off
    }

    /// The member's type id.
    #[inline]
    pub fn type_id(&self) -> u32 {
        self.raw.type_
    }

    /// Offset from the start of the struct, in bytes.
    pub fn offset(&self) -> usize {
        // With the kind flag, the low 24 bits are the offset in bits
        // (`BTF_MEMBER_BIT_OFFSET()`), the high 8 the bitfield size.
        let bits = if self.owner.kind_flag() {
            self.raw.offset & 0xff_ffff
        } else {
            self.raw.offset
        };
        (bits / 8) as usize
    }

    /// Whether the member starts on a byte (not inside one, as a bitfield
    /// may).
    #[inline]
    pub fn is_byte_aligned(&self) -> bool {
        let bits = if self.owner.kind_flag() {
            self.raw.offset & 0xff_ffff
        } else {
            self.raw.offset
        };
        bits % 8 == 0
    }

    /// Width in bits when the member is a bitfield, else 0
    /// (`BTF_MEMBER_BITFIELD_SIZE()`).
    #[inline]
    pub fn bitfield_size(&self) -> u32 {
        if self.owner.kind_flag() {
            self.raw.offset >> 24
        } else {
            0
        }
    }

    /// The raw member, for C callbacks that take one.
    #[inline]
    pub fn as_raw(&self) -> *const bindings::btf_member {
        self.raw
    }
}

/// # Safety
///
/// `ptr` is NULL or a NUL-terminated string that lives for `'a`.
#[inline]
unsafe fn cstr_or_empty<'a>(ptr: *const crate::ffi::c_char) -> &'a CStr {
    if ptr.is_null() {
        return c"";
    }
    // SAFETY: Non-NULL, so a NUL-terminated string by the caller's promise.
    unsafe { CStr::from_char_ptr(ptr) }
}

/// The BTF a struct_ops value type comes from, pinned for as long as this
/// value lives: vmlinux's, or a module's with a reference to the module.
///
/// # Invariants
///
/// The `Vmlinux` arm holds vmlinux's BTF, never a module's. The `Module` arm
/// holds a module's BTF with a reference to that module, which
/// `btf_try_get_module()` gave once the module's init had finished
/// ([`ModuleBtf::from_fd`]).
pub struct ValueBtf(ValueBtfInner);

pub(crate) enum ValueBtfInner {
    /// vmlinux BTF, which is never freed.
    Vmlinux(&'static Btf),
    /// A module's BTF, pinned by a reference to the module.
    Module(ModuleBtf),
}

impl ValueBtf {
    /// vmlinux's BTF; `ENOTSUPP` when the kernel has none.
    #[inline]
    pub fn vmlinux() -> Result<Self> {
        let btf = Btf::vmlinux()?.ok_or(ENOTSUPP)?;
        // INVARIANT: vmlinux's BTF.
        Ok(ValueBtf(ValueBtfInner::Vmlinux(btf)))
    }

    /// The module BTF object behind file descriptor `fd`, with a reference
    /// to its module.
    #[inline]
    pub fn module(fd: i32) -> Result<Self> {
        // INVARIANT: `ModuleBtf::from_fd` takes only a module's BTF, with a
        // reference from `btf_try_get_module()`.
        Ok(ValueBtf(ValueBtfInner::Module(ModuleBtf::from_fd(fd)?)))
    }

    /// Gives up the module reference, if any, which the caller then owns.
    #[inline]
    #[cfg(CONFIG_BPF_STRUCT_OPS_RUST)]
    pub(crate) fn into_inner(self) -> ValueBtfInner {
        self.0
    }

    /// The BTF object.
    #[inline]
    pub fn btf(&self) -> &Btf {
        match &self.0 {
            ValueBtfInner::Vmlinux(b) => b,
            ValueBtfInner::Module(m) => m.btf(),
        }
    }
}

/// A module's BTF, with a reference to the module that pins it.
///
/// # Invariants
///
/// `module` is a module we hold a reference on, and `btf` is its BTF.
pub struct ModuleBtf {
    btf: NonNull<bindings::btf>,
    module: NonNull<bindings::module>,
}

// SAFETY: Module references may be dropped on any thread.
unsafe impl Send for ModuleBtf {}
// SAFETY: Shared references only read the immutable BTF.
unsafe impl Sync for ModuleBtf {}

impl ModuleBtf {
    /// The module BTF behind file descriptor `fd` (`EINVAL` if it is not a
    /// module's, or the module is going away).
    pub fn from_fd(fd: i32) -> Result<Self> {
        // SAFETY: No preconditions; errors come back as error pointers.
        let btf = from_err_ptr(unsafe { bindings::btf_get_by_fd(fd) })?;
        // SAFETY: `btf` is a BTF object we hold a reference on.
        let module = unsafe {
            if bindings::btf_is_module(btf) {
                bindings::btf_try_get_module(btf)
            } else {
                core::ptr::null_mut()
            }
        };
        // The module reference pins its BTF: drop the one on the BTF itself.
        // SAFETY: We hold the reference `btf_get_by_fd` took.
        unsafe { bindings::btf_put(btf) };
        match (NonNull::new(btf), NonNull::new(module)) {
            // INVARIANT: `module` is referenced and owns `btf`.
            (Some(btf), Some(module)) => Ok(ModuleBtf { btf, module }),
            _ => Err(EINVAL),
        }
    }

    /// The module's BTF.
    #[inline]
    pub fn btf(&self) -> &Btf {
        // SAFETY: By the type invariant the module, and so its BTF, is alive.
        unsafe { Btf::from_raw(self.btf.as_ptr()) }
    }

    /// Gives up the module reference, e.g. to a map that drops it at free.
    #[cfg(CONFIG_BPF_STRUCT_OPS_RUST)]
    #[inline]
    pub(crate) fn into_raw(self) -> *mut bindings::module {
        let m = self.module.as_ptr();
        core::mem::forget(self);
        m
    }

    /// Drops a module reference given up by `ModuleBtf::into_raw`.
    ///
    /// # Safety
    ///
    /// The caller owns that reference and hands it over.
    #[inline]
    pub unsafe fn put_raw(module: *mut bindings::module) {
        // SAFETY: By the caller's promise.
        unsafe { bindings::module_put(module) };
    }
}

impl Drop for ModuleBtf {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariant we hold a reference.
        unsafe { bindings::module_put(self.module.as_ptr()) };
    }
}
