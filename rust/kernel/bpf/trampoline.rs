// SPDX-License-Identifier: GPL-2.0

//! struct_ops trampolines: the code that saves a function pointer's arguments
//! as a `u64` array and calls a BPF program with it.
//!
//! C headers: [`include/linux/bpf.h`](srctree/include/linux/bpf.h),
//! [`arch/x86/net/bpf_jit_comp.c`](srctree/arch/x86/net/bpf_jit_comp.c),
//! [`arch/arm64/net/bpf_jit_comp.c`](srctree/arch/arm64/net/bpf_jit_comp.c).
//!
//! A trampoline is emitted into an [`Image`], executable memory charged to
//! the BPF JIT limit; [`Images`] lays out the trampolines of one map in as
//! few images, and as few bytes, as they need. A [`TrampLink`] ties the program to the
//! trampoline, and a [`Ksym`] names the trampoline in `/proc/kallsyms`.

// The struct_ops map's: `TrampLink::new`.
#[cfg(CONFIG_BPF_STRUCT_OPS_RUST)]
use super::prog::Prog;
#[cfg(CONFIG_BPF_STRUCT_OPS_RUST)]
use crate::sync::aref::ARef;
use crate::{
    alloc::{flags::GFP_KERNEL, KBox},
    bindings,
    bpf::errno::check,
    error::{code::*, Result},
    ffi::c_void,
    str::{CStr, CStrExt as _, CString},
    sync::aref::AlwaysRefCounted,
    types::Opaque,
};
use core::ptr::NonNull;

const PAGE_SIZE: usize = bindings::PAGE_SIZE;

/// Whether the arch's trampoline allocator hands out sub-page chunks of the
/// BPF prog pack, which it keeps read-only and executable by itself (7.3's
/// x86_64 and arm64: their `arch_alloc_bpf_trampoline()` is
/// `bpf_prog_pack_alloc()`). Elsewhere images are whole pages, as the weak
/// `arch_alloc_bpf_trampoline()` allocates and `arch_protect_bpf_trampoline()`
/// protects: always correct, and what the C implementation does everywhere.
/// Other arches that pack (riscv64) are left on pages until tested.
const EXACT_IMAGES: bool = cfg!(any(CONFIG_X86_64, CONFIG_ARM64));

/// Executable memory holding trampolines, charged to the BPF JIT limit.
///
/// # Invariants
///
/// `ptr` is an image of `size` bytes (`0 < size <= PAGE_SIZE`) from
/// `arch_alloc_bpf_trampoline(size)`, charged with
/// `bpf_jit_charge_modmem(size)`, and owned by this value.
pub struct Image {
    ptr: NonNull<u8>,
    size: usize,
}

// SAFETY: The image is plain memory; who may run or free it is decided by
// the owner, on any thread.
unsafe impl Send for Image {}
// SAFETY: Shared references only read the address and size.
unsafe impl Sync for Image {}

impl Image {
    /// An image for `len` bytes of trampolines: exactly that big where the
    /// arch packs images (x86_64, arm64), a whole page elsewhere.
    #[inline]
    pub fn new(len: usize) -> Result<Self> {
        if len == 0 || len > PAGE_SIZE {
            return Err(E2BIG);
        }
        Self::alloc(if EXACT_IMAGES { len } else { PAGE_SIZE })
    }

    /// A whole page, as the C interface (`bpf_struct_ops_prepare_trampoline`)
    /// hands out.
    #[inline]
    pub fn page() -> Result<Self> {
        Self::alloc(PAGE_SIZE)
    }

    fn alloc(size: usize) -> Result<Self> {
        // SAFETY: No preconditions.
        check(unsafe { bindings::bpf_jit_charge_modmem(size as u32) })?;
        // SAFETY: No preconditions; returns NULL on failure.
        let ptr = unsafe { bindings::arch_alloc_bpf_trampoline(size as u32) };
        match NonNull::new(ptr.cast::<u8>()) {
            // INVARIANT: Allocated and charged just above.
            Some(ptr) => Ok(Image { ptr, size }),
            None => {
                // SAFETY: Undoes the charge above.
                unsafe { bindings::bpf_jit_uncharge_modmem(size as u32) };
                Err(ENOMEM)
            }
        }
    }

    /// The start of the image.
    #[inline]
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The image's size in bytes (what is charged).
    #[inline]
    pub fn size(&self) -> usize {
        self.size
    }

    /// Makes the image read-only and executable.
    #[inline]
    fn protect(&self) -> Result {
        // SAFETY: By the type invariant the image is a trampoline image.
        check(unsafe {
            bindings::arch_protect_bpf_trampoline(self.as_ptr().cast(), self.size as u32)
        })
        .map(|_| ())
    }

    /// Gives up ownership of a page image, for C code that tracks it itself.
    #[inline]
    pub fn into_raw_page(self) -> Result<*mut c_void> {
        if self.size != PAGE_SIZE {
            return Err(EINVAL);
        }
        let p = self.as_ptr();
        core::mem::forget(self);
        Ok(p.cast())
    }

    /// Takes back ownership of a page given up by [`Image::into_raw_page`].
    ///
    /// # Safety
    ///
    /// `ptr` comes from [`Image::into_raw_page`] and is not used by anyone
    /// else afterwards.
    #[inline]
    pub unsafe fn from_raw_page(ptr: NonNull<c_void>) -> Self {
        // INVARIANT: The caller hands back the ownership of a page image.
        Image {
            ptr: ptr.cast(),
            size: PAGE_SIZE,
        }
    }
}

impl Drop for Image {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own the image and its charge.
        unsafe {
            bindings::arch_free_bpf_trampoline(self.as_ptr().cast(), self.size as u32);
            bindings::bpf_jit_uncharge_modmem(self.size as u32);
        }
    }
}

/// The `bpf_link_ops` of the links that tie a program to its trampoline.
///
/// There is one instance, exported to C as `bpf_struct_ops_link_lops`.
///
/// # Invariants
///
/// The callbacks are `tramp_link_release` and `tramp_link_dealloc`, which
/// frees the link with `kfree()`. By the contract of [`TrampLinkOps::new`],
/// the ops given to links are a static of the kernel image.
#[repr(transparent)]
pub struct TrampLinkOps(bindings::bpf_link_ops);

impl TrampLinkOps {
    /// The ops: nothing to release, and the link is freed with `kfree()`.
    ///
    /// # Safety
    ///
    /// The result is stored in a `static` of the kernel image, and only
    /// that static is given to links.
    /// Links hold no reference to a module: C calls the ops of a link (and
    /// reads them) until its last reference is gone, which may be after a
    /// module that held the ops was unloaded.
    pub const unsafe fn new() -> Self {
        // INVARIANT: These callbacks; where the ops are kept is the caller's
        // promise.
        TrampLinkOps(bindings::bpf_link_ops {
            release: Some(tramp_link_release),
            dealloc: Some(tramp_link_dealloc),
            ..Self::EMPTY
        })
    }

    const EMPTY: bindings::bpf_link_ops = pin_init::zeroed();
}

/// # Safety
///
/// Called by the BPF core with a tramp link being freed.
unsafe extern "C" fn tramp_link_release(_link: *mut bindings::bpf_link) {}

/// # Safety
///
/// `link` is the `link` field of a `bpf_tramp_link` allocated with
/// `kmalloc()`, whose last reference is gone.
unsafe extern "C" fn tramp_link_dealloc(link: *mut bindings::bpf_link) {
    // `link` is the first field of `struct bpf_tramp_link`.
    // SAFETY: The caller passes a kmalloc'ed tramp link nobody uses any more.
    unsafe { bindings::kfree(link.cast()) };
}

/// A `bpf_tramp_link`: a program as a trampoline calls it, reference-counted
/// (`ARef<TrampLink>`); its last reference frees it and puts the program.
///
/// # Invariants
///
/// A `&TrampLink` is an initialised, kmalloc'ed `bpf_tramp_link` whose ops
/// are [`TrampLinkOps`] and whose count is not zero.
#[repr(transparent)]
pub struct TrampLink(Opaque<bindings::bpf_tramp_link>);

// SAFETY: `bpf_link_inc()` and `bpf_link_put()` keep the link alive until the
// count drops to zero, which it does not while a `&TrampLink` exists (type
// invariant).
unsafe impl AlwaysRefCounted for TrampLink {
    #[inline]
    fn inc_ref(&self) {
        // SAFETY: The link is alive and its count not zero (type invariant).
        unsafe { bindings::bpf_link_inc(&raw mut (*self.as_raw()).link) };
    }

    #[inline]
    unsafe fn dec_ref(obj: NonNull<Self>) {
        let link = obj.as_ptr().cast::<bindings::bpf_tramp_link>();
        // SAFETY: The caller gives up a reference it owns; the free is
        // deferred to a work item, so any context will do.
        unsafe { bindings::bpf_link_put(&raw mut (*link).link) };
    }
}

// SAFETY: Link references may be taken and dropped on any thread.
unsafe impl Send for TrampLink {}
// SAFETY: Shared references only read the link.
unsafe impl Sync for TrampLink {}

impl TrampLink {
    /// Wraps `prog` in a new link.
    // Crate-only: `bpf_tramp_link_init()` is not exported to modules. The
    // struct_ops map is its only user.
    #[cfg(CONFIG_BPF_STRUCT_OPS_RUST)]
    #[inline]
    pub(crate) fn new(prog: ARef<Prog>, ops: &'static TrampLinkOps) -> Result<ARef<Self>> {
        // SAFETY: No preconditions; it returns a zeroed (initial state)
        // `kmalloc()`'ed tramp link, or NULL.
        let raw = NonNull::new(unsafe { bindings::bpf_tramp_link_zalloc() }).ok_or(ENOMEM)?;
        let attach_type = prog.expected_attach_type();
        // SAFETY: `raw` is a fresh tramp link, ours alone;
        // `bpf_tramp_link_init` takes over the program reference, which
        // `bpf_link_free` puts, and points the link's node at the link.
        unsafe {
            bindings::bpf_tramp_link_init(
                raw.as_ptr(),
                bindings::bpf_link_type_BPF_LINK_TYPE_STRUCT_OPS,
                &ops.0,
                ARef::into_raw(prog).as_ptr().cast(),
                attach_type,
                0,
            )
        };
        // SAFETY: Initialised with one reference, which we hand over; its
        // memory is `kmalloc()`'s, which the ops' `kfree` matches.
        Ok(unsafe { ARef::from_raw(raw.cast::<TrampLink>()) })
    }

    /// The raw link, for C calls.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::bpf_tramp_link {
        self.0.get()
    }

    /// The program the link calls, for C calls.
    #[inline]
    pub fn prog(&self) -> *mut bindings::bpf_prog {
        // SAFETY: The link is live (type invariant); its program is set at
        // init and never changes.
        unsafe { (*self.as_raw()).link.prog }
    }

    /// The link's node: what a trampoline's tables point at.
    #[inline]
    pub fn node(&self) -> *mut bindings::bpf_tramp_node {
        // SAFETY: A field of the live link (type invariant); no access.
        unsafe { &raw mut (*self.as_raw()).node }
    }
}

/// The per-kind node tables a trampoline is generated from.
///
/// # Invariants
///
/// `0` holds `BPF_TRAMP_MAX` tables, zeroed (empty) when made. Only the
/// FENTRY one is ever written, by [`trampoline_size`] and
/// [`trampoline_write`], which point it at their one node before the arch
/// code reads it (between uses it may hold the node of a link since gone);
/// every other table stays empty.
pub struct TrampNodes(
    KBox<[bindings::bpf_tramp_nodes; bindings::bpf_tramp_prog_type_BPF_TRAMP_MAX as usize]>,
);

impl TrampNodes {
    /// Empty tables.
    #[inline]
    pub fn new() -> Result<Self> {
        // Zeroed by the allocator, not built on the stack: the tables are
        // near 1 KB. Zeroed means empty.
        // INVARIANT: Every table empty.
        Ok(TrampNodes(KBox::zeroed(GFP_KERNEL)?))
    }

    /// The raw tables, for C calls.
    #[inline]
    pub fn as_raw(&mut self) -> *mut bindings::bpf_tramp_nodes {
        self.0.as_mut_ptr()
    }
}

/// Flags of a struct_ops trampoline for a function returning `ret_size` bytes.
#[inline]
fn tramp_flags(model: &bindings::btf_func_model) -> u32 {
    let mut flags = bindings::BPF_TRAMP_F_INDIRECT;
    if model.ret_size > 0 {
        flags |= bindings::BPF_TRAMP_F_RET_FENTRY_RET;
    }
    flags
}

/// The size of the trampoline that calls `node` for a function of `model`.
///
/// # Safety
///
/// `tnodes` points to `BPF_TRAMP_MAX` zeroed-or-initialised tables and `node`
/// to the node of a live tramp link; `model` comes from `btf_distill_func_proto()` for
/// the function the trampoline stands for; `stub` is the member's CFI stub
/// (or NULL).
pub unsafe fn trampoline_size(
    tnodes: *mut bindings::bpf_tramp_nodes,
    node: *mut bindings::bpf_tramp_node,
    model: &bindings::btf_func_model,
    stub: *mut c_void,
) -> Result<usize> {
    // SAFETY: By the caller's promise.
    unsafe { set_fentry(tnodes, node) };
    // SAFETY: Arguments valid by the caller's promise.
    let size =
        unsafe { bindings::arch_bpf_trampoline_size(model, tramp_flags(model), tnodes, stub) };
    positive(size)
}

/// Points the FENTRY table of `tnodes` at `node` alone.
///
/// # Safety
///
/// `tnodes` points to `BPF_TRAMP_MAX` tables.
#[inline]
unsafe fn set_fentry(tnodes: *mut bindings::bpf_tramp_nodes, node: *mut bindings::bpf_tramp_node) {
    // SAFETY: `tnodes` has `BPF_TRAMP_MAX` tables by the caller's promise.
    let fentry =
        unsafe { &mut *tnodes.add(bindings::bpf_tramp_prog_type_BPF_TRAMP_FENTRY as usize) };
    fentry.nodes[0] = node;
    fentry.nr_nodes = 1;
}

/// Writes the trampoline that calls `node` at `image`.
///
/// Returns the number of bytes written.
///
/// # Safety
///
/// As for [`trampoline_size`]; `size` is at least what [`trampoline_size`]
/// gave for the same arguments (the arch code may emit that much before it
/// checks the end); `image..image + size` lies in an image from
/// `arch_alloc_bpf_trampoline()` that is not protected yet (the arch code
/// writes it as such memory needs, e.g. x86's through
/// `bpf_arch_text_copy()`) and that no CPU runs; the link, and so its
/// program, outlives every run of the trampoline written.
pub unsafe fn trampoline_write(
    tnodes: *mut bindings::bpf_tramp_nodes,
    node: *mut bindings::bpf_tramp_node,
    model: &bindings::btf_func_model,
    stub: *mut c_void,
    image: *mut u8,
    size: usize,
) -> Result<usize> {
    // SAFETY: By the caller's promise.
    unsafe { set_fentry(tnodes, node) };
    // SAFETY: By the caller's promise, the tables hold the node and
    // `image..image + size` is writable.
    let written = unsafe {
        bindings::arch_prepare_bpf_trampoline(
            core::ptr::null_mut(),
            image.cast(),
            image.add(size).cast(),
            model,
            tramp_flags(model),
            tnodes,
            stub,
        )
    };
    positive(written)
}

#[inline]
fn positive(n: i32) -> Result<usize> {
    match check(n)? {
        0 => Err(EFAULT),
        n => Ok(n as usize),
    }
}

/// The size of the trampoline that calls `link` for a function of `model`
/// whose CFI stub is `stub`.
///
/// # Safety
///
/// `model` is the func model (from `btf_distill_func_proto()`) of the
/// function the trampoline stands for, and `stub` its CFI stub.
#[cfg(CONFIG_BPF_STRUCT_OPS_RUST)]
pub(crate) unsafe fn size_of(
    tnodes: &mut TrampNodes,
    link: &TrampLink,
    model: &bindings::btf_func_model,
    stub: Option<CfiStub>,
) -> Result<usize> {
    let stub = stub.map_or(core::ptr::null_mut(), CfiStub::as_ptr);
    // SAFETY: `tnodes` are tables, `link` is live, `stub` a function or NULL,
    // `model` the function's (the caller's promise).
    unsafe { trampoline_size(tnodes.as_raw(), link.node(), model, stub) }
}

/// The most images (pages) the trampolines of one map may take.
pub const MAX_IMAGES: usize = bindings::BPF_STRUCT_OPS_MAX_IMAGE_PAGES as usize;

/// Where one trampoline goes in [`Images`]: its size, known before the
/// layout, and the image and offset [`Images::layout`] gives it.
#[derive(Clone, Copy)]
pub struct Slot {
    image: usize,
    offset: usize,
    size: usize,
}

impl Slot {
    /// A slot for a trampoline of `size` bytes, not laid out yet.
    #[inline]
    pub fn new(size: usize) -> Self {
        Slot {
            image: 0,
            offset: 0,
            size,
        }
    }

    /// The image the trampoline goes in (from 0), once laid out.
    #[inline]
    pub fn image(&self) -> usize {
        self.image
    }

    /// The trampoline's offset in its image, once laid out.
    #[inline]
    pub fn offset(&self) -> usize {
        self.offset
    }
}

/// Where the trampolines of one map go: how many images, and how many bytes
/// of each the trampolines take.
///
/// Trampolines are packed in order, a new image starting when the next one
/// does not fit in what is left of a page.
///
/// # Examples
///
/// ```
/// use kernel::bpf::trampoline::{Layout, Slot, MAX_IMAGES};
/// use kernel::prelude::*;
///
/// let mut slots = [Slot::new(3000), Slot::new(1000), Slot::new(200)];
/// let layout = Layout::new(slots.iter_mut())?;
/// // 3000 + 1000 fit in a page, 200 more do not.
/// assert_eq!(layout.image_lens(), &[4000, 200]);
/// assert_eq!((slots[1].image(), slots[1].offset()), (0, 3000));
/// assert_eq!((slots[2].image(), slots[2].offset()), (1, 0));
///
/// // A trampoline larger than a page, or an empty one, has no place.
/// assert!(Layout::new([Slot::new(5000)].iter_mut()).is_err());
/// assert!(Layout::new([Slot::new(0)].iter_mut()).is_err());
///
/// // At most MAX_IMAGES images.
/// let mut many = [Slot::new(4000); MAX_IMAGES + 1];
/// assert!(Layout::new(many.iter_mut().take(MAX_IMAGES)).is_ok());
/// assert!(Layout::new(many.iter_mut()).is_err());
///
/// // Nothing to lay out: no image.
/// let mut none: [Slot; 0] = [];
/// assert!(Layout::new(none.iter_mut()).is_ok_and(|l| l.image_lens().is_empty()));
/// # Ok::<(), Error>(())
/// ```
pub struct Layout {
    lens: [usize; MAX_IMAGES],
    count: usize,
}

impl Layout {
    /// Lays out the trampolines of `slots`, in order, in at most
    /// [`MAX_IMAGES`] images (`E2BIG` beyond, and for a trampoline that is
    /// empty or larger than a page), and records in each slot where it goes.
    pub fn new<'a>(slots: impl Iterator<Item = &'a mut Slot>) -> Result<Self> {
        let mut lens = [0usize; MAX_IMAGES];
        let mut count = 0;
        let mut used = PAGE_SIZE;
        for slot in slots {
            if slot.size == 0 || slot.size > PAGE_SIZE {
                return Err(E2BIG);
            }
            if slot.size > PAGE_SIZE - used {
                if count >= MAX_IMAGES {
                    return Err(E2BIG);
                }
                count += 1;
                used = 0;
            }
            slot.image = count.checked_sub(1).ok_or(EINVAL)?;
            slot.offset = used;
            used += slot.size;
            *lens.get_mut(slot.image).ok_or(EINVAL)? = used;
        }
        Ok(Layout { lens, count })
    }

    /// The bytes the trampolines take in each image, one entry per image.
    #[inline]
    pub fn image_lens(&self) -> &[usize] {
        self.lens.get(..self.count).unwrap_or(&[])
    }
}

/// The images holding the trampolines of one struct_ops map, being written.
///
/// Trampolines are laid out in order, as many in one image as fit in a page,
/// and each image is only as big as its trampolines where the arch allows
/// (x86_64, arm64): three small trampolines take a few hundred bytes, not a
/// page. The images are kept inline: laying them out allocates nothing but
/// the images.
///
/// Only this type writes; [`Images::protect`] turns it, by value, into
/// [`ProtectedImages`], which nothing writes.
///
/// # Invariants
///
/// Each of `images` is `None` or an [`Image`] from [`Image::new`] that has
/// not been protected: only [`Images::protect`], which consumes `self`,
/// protects them.
pub struct Images {
    images: [Option<Image>; MAX_IMAGES],
}

/// The images of one struct_ops map once read-only and executable: what
/// the kernel runs. Nothing writes them; they are freed when this is
/// dropped, which its owner does only once no CPU can be running them.
///
/// # Invariants
///
/// Each of `images` is `None` or an [`Image`] that [`Images::protect`] made
/// read-only and executable, and that nothing writes any more.
pub struct ProtectedImages {
    images: [Option<Image>; MAX_IMAGES],
}

impl ProtectedImages {
    /// The executable bytes the images take (and are charged).
    #[inline]
    pub fn bytes(&self) -> usize {
        self.images.iter().flatten().map(Image::size).sum()
    }
}

impl Images {
    /// Lays out the trampolines of `slots` ([`Layout::new`]) and allocates
    /// the images.
    pub fn layout<'a>(slots: impl Iterator<Item = &'a mut Slot>) -> Result<Self> {
        let layout = Layout::new(slots)?;
        // INVARIANT: Empty; the images added below are new, unprotected ones.
        let mut images = Images {
            images: [const { None }; MAX_IMAGES],
        };
        for (image, &len) in images.images.iter_mut().zip(layout.image_lens()) {
            *image = Some(Image::new(len)?);
        }
        Ok(images)
    }

    /// Writes the trampoline calling `link` into `slot`; returns its start
    /// and size.
    ///
    /// # Safety
    ///
    /// `slot` is one laid out for these images, whose size is the one
    /// [`size_of`] gave for the same link, model and stub (the arch code may
    /// emit that much before it checks the end); the model is as
    /// [`size_of`] requires.
    #[cfg(CONFIG_BPF_STRUCT_OPS_RUST)]
    pub(crate) unsafe fn write(
        &mut self,
        slot: &Slot,
        tnodes: &mut TrampNodes,
        link: &TrampLink,
        model: &bindings::btf_func_model,
        stub: Option<CfiStub>,
    ) -> Result<(*mut u8, usize)> {
        let image = self
            .images
            .get(slot.image)
            .and_then(Option::as_ref)
            .ok_or(EINVAL)?;
        let end = slot.offset.checked_add(slot.size).ok_or(EINVAL)?;
        if end > image.size() {
            return Err(EFAULT);
        }
        let start = image.as_ptr().wrapping_add(slot.offset);
        let stub = stub.map_or(core::ptr::null_mut(), CfiStub::as_ptr);
        // SAFETY: `slot.size` bytes from `start` are inside the image, as
        // many as the trampoline needs (the caller's promise); the images are
        // only protected by `protect`, which consumes them, and run once
        // published, after that; `tnodes` are tables, and `link` is live and
        // kept by the caller as long as the trampoline can run.
        let written = unsafe {
            trampoline_write(tnodes.as_raw(), link.node(), model, stub, start, slot.size)
        }?;
        Ok((start, written))
    }

    /// Makes every image read-only and executable; from here on nothing
    /// writes them. On error the images are freed.
    #[inline]
    pub fn protect(self) -> Result<ProtectedImages> {
        self.images.iter().flatten().try_for_each(Image::protect)?;
        // INVARIANT: Every image was protected just above; `self` is gone.
        Ok(ProtectedImages {
            images: self.images,
        })
    }
}

/// The offset of a function's entry from its address under kCFI (the type
/// hash before it), 0 without: what a func ptr slot adds to a trampoline's
/// start.
#[inline]
pub fn cfi_offset() -> usize {
    // SAFETY: No preconditions; it returns a constant of the build.
    unsafe { bindings::cfi_get_offset() as usize }
}

/// A kallsyms entry (`bpf__<type>_<member>`) for one trampoline.
///
/// # Examples
///
/// ```
/// use kernel::{bpf::trampoline::Ksym, prelude::*, str::CString};
///
/// let k = Ksym::new(c"tcp_congestion_ops", c"ssthresh")?;
/// assert_eq!(k.name().to_str(), Ok("bpf__tcp_congestion_ops_ssthresh"));
///
/// // Names are cut to what kallsyms takes (`KSYM_NAME_LEN`, with the NUL).
/// let long = CString::try_from_fmt(fmt!("{:a<600}", ""))?;
/// let k = Ksym::new(&long, c"op")?;
/// assert_eq!(k.name().count_bytes(), 511);
/// # Ok::<(), Error>(())
/// ```
///
/// # Invariants
///
/// `ksym` is a `kmalloc()`'ed symbol owned by this value; `added` says
/// whether it is in the BPF kallsyms tree.
pub struct Ksym {
    ksym: NonNull<bindings::bpf_ksym>,
    added: bool,
}

// SAFETY: The symbol is plain data, added and removed under the kernel's
// locks from any thread.
unsafe impl Send for Ksym {}
// SAFETY: Shared references only read the name, which nothing writes after
// `new`.
unsafe impl Sync for Ksym {}

impl Ksym {
    /// A symbol named `bpf__<tname>_<mname>`, for a range set later with
    /// `Ksym::set_range`.
    pub fn new(tname: &CStr, mname: &CStr) -> Result<Self> {
        // SAFETY: No preconditions; it returns a zeroed (initial state)
        // `kmalloc()`'ed symbol, or NULL.
        let ksym = NonNull::new(unsafe { bindings::bpf_ksym_zalloc() }).ok_or(ENOMEM)?;
        let k = ksym.as_ptr();
        // SAFETY: The symbol is new and ours alone, not published: writing
        // its name and list head in place is fine. `c_char` and `u8` have the
        // same layout.
        let (dst, node) = unsafe {
            let name = &mut (*k).name;
            (
                core::slice::from_raw_parts_mut(name.as_mut_ptr().cast::<u8>(), name.len()),
                &raw mut (*k).lnode,
            )
        };
        // The name, cut to leave the last byte its NUL.
        let mut at = 0;
        for part in [
            b"bpf__".as_slice(),
            tname.to_bytes(),
            b"_",
            mname.to_bytes(),
        ] {
            let n = part.len().min(dst.len().saturating_sub(1 + at));
            if let (Some(d), Some(s)) = (dst.get_mut(at..at + n), part.get(..n)) {
                d.copy_from_slice(s);
            }
            at += n;
        }
        // SAFETY: As above.
        unsafe {
            (*node).next = node;
            (*node).prev = node;
        }
        // INVARIANT: `kmalloc()`'ed above and handed over; not added yet.
        Ok(Ksym { ksym, added: false })
    }

    /// The symbol's name.
    #[inline]
    pub fn name(&self) -> &CStr {
        // SAFETY: Only the name is borrowed, which nobody writes after `new`
        // (other fields change while the symbol is published).
        let name = unsafe { &(*self.ksym.as_ptr()).name };
        // SAFETY: `c_char` and `u8` have the same layout.
        let bytes = unsafe { core::slice::from_raw_parts(name.as_ptr().cast::<u8>(), name.len()) };
        bytes
            .iter()
            .position(|&b| b == 0)
            .and_then(|end| bytes.get(..=end))
            .and_then(|b| CStr::from_bytes_with_nul(b).ok())
            .unwrap_or(c"")
    }

    /// Makes the symbol name the `size` bytes at `start`; `EBUSY` once it is
    /// published.
    ///
    /// # Safety
    ///
    /// `start..start + size` is a trampoline image, or a part of one, that
    /// the symbol's owner keeps until the symbol is withdrawn
    /// ([`Ksym::del`], or the drop).
    #[cfg(CONFIG_BPF_STRUCT_OPS_RUST)]
    pub(crate) unsafe fn set_range(&mut self, start: *mut u8, size: usize) -> Result {
        if self.added {
            return Err(EBUSY);
        }
        let k = self.raw();
        // SAFETY: `k` is a valid symbol, not in the tree; this only records
        // the range.
        unsafe { bindings::bpf_image_ksym_init(start.cast(), size as u32, k) };
        Ok(())
    }

    /// Publishes the symbol. Its owner withdraws it ([`Ksym::del`]) and
    /// waits for an RCU grace period before the trampoline it names goes.
    #[inline]
    #[cfg(CONFIG_BPF_STRUCT_OPS_RUST)]
    pub(crate) fn add(&mut self) {
        if !self.added {
            // SAFETY: Initialised and pinned; not in the tree yet.
            unsafe { bindings::bpf_image_ksym_add(self.raw()) };
            // INVARIANT: Added just above.
            self.added = true;
        }
    }

    /// Withdraws the symbol; kallsyms readers (under RCU) may still see it
    /// until a grace period has passed.
    ///
    /// # Safety
    ///
    /// An RCU grace period passes between this call and the drop of `self`,
    /// which frees the symbol: owners that withdraw many symbols call this
    /// on each, then wait once.
    #[inline]
    pub(crate) unsafe fn del(&mut self) {
        if self.added {
            // SAFETY: In the tree, by the type invariant.
            unsafe { bindings::bpf_image_ksym_del(self.raw()) };
            // INVARIANT: Removed just above.
            self.added = false;
        }
    }

    #[inline]
    fn raw(&self) -> *mut bindings::bpf_ksym {
        self.ksym.as_ptr()
    }
}

impl Drop for Ksym {
    #[inline]
    fn drop(&mut self) {
        if self.added {
            // SAFETY: The grace period follows.
            unsafe { self.del() };
            // Readers walk the symbols under RCU: wait for them before the
            // memory goes. Owners that withdraw many symbols do it first and
            // wait once, so this only runs when they did not.
            crate::sync::rcu::synchronize_rcu();
        }
        // SAFETY: `kmalloc()`'ed in `new` and ours (type invariant); never
        // added, or withdrawn a grace period ago (above, or by `del`'s
        // contract), so no kallsyms reader can reach it.
        unsafe { bindings::kfree(self.ksym.as_ptr().cast()) };
    }
}

/// A member's CFI stub: the kernel function that stands for the member in
/// trampolines (its address gives the kCFI type hash) and whose argument
/// names say which arguments may be NULL.
///
/// # Invariants
///
/// The address of a kernel function.
#[derive(Clone, Copy)]
pub struct CfiStub(NonNull<c_void>);

impl CfiStub {
    /// Wraps the address of a kernel function.
    ///
    /// # Safety
    ///
    /// `addr` is the address of a kernel function.
    #[inline]
    #[cfg(CONFIG_BPF_STRUCT_OPS_RUST)]
    pub(crate) unsafe fn new(addr: NonNull<c_void>) -> Self {
        // INVARIANT: The caller guarantees it.
        Self(addr)
    }

    /// The function's address.
    #[inline]
    pub fn as_ptr(self) -> *mut c_void {
        self.0.as_ptr()
    }

    /// The function's symbol name, from kallsyms.
    pub fn name(self) -> Result<CString> {
        let mut sym = [0u8; bindings::KSYM_SYMBOL_LEN];
        // SAFETY: `sym` has the room `kallsyms_lookup` may write; the other
        // outputs are optional.
        let found = unsafe {
            bindings::kallsyms_lookup(
                self.as_ptr() as usize,
                core::ptr::null_mut(),
                core::ptr::null_mut(),
                core::ptr::null_mut(),
                sym.as_mut_ptr().cast(),
            )
        };
        if found.is_null() {
            return Err(ENOENT);
        }
        let end = sym.iter().position(|&b| b == 0).ok_or(ENOENT)?;
        let name = CStr::from_bytes_with_nul(sym.get(..=end).ok_or(ENOENT)?).map_err(|_| ENOENT)?;
        Ok(name.to_cstring()?)
    }
}
