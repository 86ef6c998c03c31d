// SPDX-License-Identifier: GPL-2.0

//! The C callbacks of a struct_ops type, each calling its
//! [`StructOpsType`] method with safe arguments.

use super::{InitMember, Link, Published, StructOpsType, Unregistered};
use crate::{
    bindings,
    bpf::{
        btf::{Btf, BtfType, Member},
        prog::LoadingProg,
        verifier::{AccessInfo, AccessType, VerifierLog},
    },
    error::{code::*, from_result, Result},
    ffi::{c_int, c_void},
    str::CStr,
};

/// The `struct bpf_struct_ops` of `T`.
///
/// The BPF core calls `init`, `init_member`, `reg`, `unreg` and the verifier
/// callbacks without checking for NULL: those are always set. The owner is
/// `T::OwnerModule`'s: the core finds a module's types' BTF through it.
pub(super) const fn struct_ops<T: StructOpsType>(
    verifier_ops: &'static bindings::bpf_verifier_ops,
    cfi_stubs: *mut c_void,
    name: &'static CStr,
) -> bindings::bpf_struct_ops {
    let mut st: bindings::bpf_struct_ops = pin_init::zeroed();
    st.verifier_ops = verifier_ops;
    st.init = Some(init::<T>);
    st.init_member = Some(init_member::<T>);
    st.reg = Some(reg::<T>);
    st.unreg = Some(unreg::<T>);
    // Always: it refuses sleepable programs for the members not in
    // `T::SLEEPABLE`, which the core alone does not.
    st.check_member = Some(check_member::<T>);
    if T::HAS_VALIDATE {
        st.validate = Some(validate::<T>);
    }
    if T::HAS_UPDATE {
        st.update = Some(update::<T>);
    }
    st.cfi_stubs = cfi_stubs;
    st.owner = crate::module::this_module::<T::OwnerModule>().as_ptr();
    st.name = crate::str::as_char_ptr_in_const_context(name);
    st
}

/// The `struct bpf_verifier_ops` of `T`.
pub(super) const fn verifier_ops<T: StructOpsType>() -> bindings::bpf_verifier_ops {
    let mut v = crate::bpf::prog::EMPTY_VERIFIER_OPS;
    v.get_func_proto = Some(get_func_proto::<T>);
    v.is_valid_access = Some(is_valid_access::<T>);
    if !T::WRITABLE.is_empty() {
        v.btf_struct_access = Some(btf_struct_access::<T>);
    }
    v
}

/// A C result from a Rust one.
#[inline]
fn errno(r: Result) -> c_int {
    from_result(|| r.map(|()| 0))
}

/// `init`: checks and records the type against its BTF, then calls `T::init`.
///
/// # Safety
///
/// `btf` is the BTF the type is being registered with, loaded for as long as
/// the type is.
unsafe extern "C" fn init<T: StructOpsType>(btf: *mut bindings::btf) -> c_int {
    // SAFETY: The caller's promise; a registered type is never unregistered
    // but with the BTF (module) it lives in.
    let btf: &'static Btf = unsafe { Btf::from_raw(btf) };
    let table = T::table();
    errno(
        table
            .register(btf)
            .and_then(|()| T::init(btf).inspect_err(|_| table.forget())),
    )
}

/// `init_member`: gives `T::init_member` the member of its own ops struct.
///
/// # Safety
///
/// `t` is the type's ops struct in its BTF and `member` one of its members;
/// `kdata` and `udata` are buffers of `t`'s size, the first only written
/// through here meanwhile, the second only read.
unsafe extern "C" fn init_member<T: StructOpsType>(
    t: *const bindings::btf_type,
    member: *const bindings::btf_member,
    kdata: *mut c_void,
    udata: *const c_void,
) -> c_int {
    // SAFETY: `t` is a type of the type's BTF, loaded while the map lives.
    let t = unsafe { BtfType::from_raw(t) };
    let Some((btf, member)) = ops_member::<T>(t, member) else {
        return EINVAL.to_errno();
    };
    from_result(|| {
        // SAFETY: Both buffers are `t.size()` bytes, `kdata` is ours to
        // write and `udata` to read for the call (the caller's promise).
        let mut m =
            unsafe { InitMember::new(btf, member, t.size() as usize, kdata.cast(), udata.cast()) };
        Ok(T::init_member(&mut m)?.into())
    })
}

/// `check_member`: refuses sleepable programs for members not in
/// `T::SLEEPABLE`, then asks `T::check_member`.
///
/// # Safety
///
/// `t` is the type's ops struct in its BTF, `member` one of its members and
/// `prog` a program being loaded for it.
unsafe extern "C" fn check_member<T: StructOpsType>(
    t: *const bindings::btf_type,
    member: *const bindings::btf_member,
    prog: *const bindings::bpf_prog,
) -> c_int {
    // SAFETY: The caller's promise.
    let (t, prog) = unsafe { (BtfType::from_raw(t), LoadingProg::from_raw(prog)) };
    let Some((btf, m)) = ops_member::<T>(t, member) else {
        return EINVAL.to_errno();
    };
    if prog.sleepable() && !T::SLEEPABLE.has(btf.name_by_offset(m.name_off())) {
        return EINVAL.to_errno();
    }
    if T::HAS_CHECK_MEMBER {
        return errno(T::check_member(&m, prog));
    }
    0
}

/// The BTF of `T` and the member of its ops struct `member` points to, when
/// `t` is that struct (the one `T` registered with).
fn ops_member<T: StructOpsType>(
    t: &BtfType,
    member: *const bindings::btf_member,
) -> Option<(&'static Btf, Member<'_>)> {
    let table = T::table();
    let ops = table.ops_type()?;
    if !core::ptr::eq(ops.as_raw(), t.as_raw()) {
        return None;
    }
    let btf = table.btf()?;
    let m = t.members().find(|m| core::ptr::eq(m.as_raw(), member))?;
    Some((btf, m))
}

/// `validate`: calls `T::validate` with the struct, not registered yet.
///
/// # Safety
///
/// `kdata` is a complete value of the type, alive for the call.
unsafe extern "C" fn validate<T: StructOpsType>(kdata: *mut c_void) -> c_int {
    // SAFETY: The caller's promise.
    errno(T::validate(unsafe { Unregistered::from_raw(kdata) }))
}

/// `reg`: calls `T::reg` with the published struct.
///
/// # Safety
///
/// `kdata` is a complete value of the type, that stays alive and in place
/// until `unreg` returns for it; `link` is NULL or a link alive for the call.
unsafe extern "C" fn reg<T: StructOpsType>(
    kdata: *mut c_void,
    link: *mut bindings::bpf_link,
) -> c_int {
    // SAFETY: The caller's promise.
    let (ops, link) = unsafe { (Published::from_raw(kdata), Link::from_raw(link)) };
    errno(T::reg(ops, link))
}

/// `unreg`: calls `T::unreg` with the published struct.
///
/// # Safety
///
/// `kdata` is a value `reg` registered, alive for the call; `link` is NULL or
/// a link alive for the call.
unsafe extern "C" fn unreg<T: StructOpsType>(kdata: *mut c_void, link: *mut bindings::bpf_link) {
    // SAFETY: The caller's promise.
    let (ops, link) = unsafe { (Published::from_raw(kdata), Link::from_raw(link)) };
    T::unreg(ops, link)
}

/// `update`: calls `T::update` with both published structs.
///
/// # Safety
///
/// `kdata` is as for `reg`, `old_kdata` a value `reg` registered, alive for
/// the call, and `link` a link alive for the call.
unsafe extern "C" fn update<T: StructOpsType>(
    kdata: *mut c_void,
    old_kdata: *mut c_void,
    link: *mut bindings::bpf_link,
) -> c_int {
    // SAFETY: The caller's promise.
    let (new, old, link) = unsafe {
        (
            Published::from_raw(kdata),
            Published::from_raw(old_kdata),
            Link::from_raw(link),
        )
    };
    match link {
        Some(link) => errno(T::update(new, old, link)),
        None => EINVAL.to_errno(),
    }
}

/// `get_func_proto`: the prototype `T::get_func_proto` gives, or NULL.
///
/// # Safety
///
/// `prog` is a program being verified.
unsafe extern "C" fn get_func_proto<T: StructOpsType>(
    func_id: bindings::bpf_func_id,
    prog: *const bindings::bpf_prog,
) -> *const bindings::bpf_func_proto {
    // SAFETY: The caller's promise.
    let prog = unsafe { LoadingProg::from_raw(prog) };
    T::get_func_proto(func_id, prog).map_or(core::ptr::null(), |p| p.as_raw())
}

/// `is_valid_access`: the tracing context check, then `T::is_valid_access`.
///
/// # Safety
///
/// `prog` is a program being verified, `info` valid and the verifier's to
/// give us for the call.
unsafe extern "C" fn is_valid_access<T: StructOpsType>(
    off: c_int,
    size: c_int,
    ty: bindings::bpf_access_type,
    prog: *const bindings::bpf_prog,
    info: *mut bindings::bpf_insn_access_aux,
) -> bool {
    // SAFETY: The caller's promise.
    let (prog, info) = unsafe { (LoadingProg::from_raw(prog), AccessInfo::from_raw(info)) };
    let ty = AccessType::from_raw(ty);
    // The context is the trampoline's array of arguments: only the type's
    // refusals and promotions come on top of the tracing check.
    info.check_tracing_ctx(off, size, ty, prog) && T::is_valid_access(off, size, ty, prog, info)
}

/// `btf_struct_access`: decides a write from `T::WRITABLE`.
///
/// # Safety
///
/// `log` is NULL or the verifier's log, ours for the call; `reg` is a
/// register of the program being verified, a pointer to a BTF struct.
unsafe extern "C" fn btf_struct_access<T: StructOpsType>(
    log: *mut bindings::bpf_verifier_log,
    reg: *const bindings::bpf_reg_state,
    off: c_int,
    size: c_int,
) -> c_int {
    // SAFETY: The caller's promise.
    let log = unsafe { VerifierLog::from_raw(log) };
    // SAFETY: `reg` is valid (the caller's promise); for a pointer to a BTF
    // struct, the union's arm in use is `btf`/`btf_id`.
    let t = unsafe {
        let ptr = &(*reg).__bindgen_anon_1.__bindgen_anon_1;
        bindings::btf_type_by_id(ptr.btf, ptr.btf_id)
    };
    let table = T::table();
    let target = table.state_type(&table.state.writable_type);
    let is_target = target.is_some_and(|w| core::ptr::eq(w.as_raw(), t));
    errno(T::WRITABLE.check_write(is_target, off, size, log))
}
