// SPDX-License-Identifier: GPL-2.0-only

//! Descriptors: what the BPF core knows of a struct_ops type a subsystem
//! registered (`register_bpf_struct_ops()`), found once, at registration.

use kernel::{
    bpf::{
        btf::{self, Btf, BtfType, Member},
        struct_ops::{self, ArgTagError, DescSlot, VerifierLog},
        trampoline::CfiStub,
    },
    error::{code::*, Result},
    prelude::*,
    str::CString,
};

const VALUE_PREFIX: &str = "bpf_struct_ops_";
/// Room for the value type's name, as in C (`char value_name[128]`).
const VALUE_NAME_LEN: usize = 128;
const MAX_NR_MEMBERS: u16 = struct_ops::MAX_MEMBERS;

/// Fills `desc` for the type `desc.st_ops` names in its BTF, saying why in
/// the kernel log when it cannot, with 7.3's messages and errors. The
/// abstraction computes and writes what is trusted ([`DescSlot::fill`]).
pub(crate) fn init(desc: &mut DescSlot<'_>, mut log: Option<&mut VerifierLog>) -> Result {
    let btf = desc.btf();
    let name = desc.st_ops().name();
    if name.count_bytes() + VALUE_PREFIX.len() >= VALUE_NAME_LEN {
        pr_warn!("struct_ops name {} is too long\n", name);
        return Err(EINVAL);
    }
    let value_name = CString::try_from_fmt(fmt!("{}{}", VALUE_PREFIX, name))?;

    if !desc.st_ops().has_cfi_stubs() {
        pr_warn!("struct_ops for {} has no cfi_stubs\n", name);
        return Err(EINVAL);
    }

    let Ok((_, t)) = desc.struct_type() else {
        pr_warn!("Cannot find struct {} in {}\n", name, btf.name());
        return Err(EINVAL);
    };
    if t.vlen() > MAX_NR_MEMBERS {
        pr_warn!("Cannot support #{} members in struct {}\n", t.vlen(), name);
        return Err(EINVAL);
    }

    let Ok(value_id) = btf.find_by_name_kind(&value_name, btf::KIND_STRUCT) else {
        pr_warn!("Cannot find struct {} in {}\n", &*value_name, btf.name());
        return Err(EINVAL);
    };
    check_value_type(btf, value_id, t, &value_name)?;

    for member in t.members() {
        let mname = btf.name_by_offset(member.name_off());
        if mname.is_empty() {
            pr_warn!("anon member in struct {} is not supported\n", name);
            return Err(EOPNOTSUPP);
        }
        if member.bitfield_size() != 0 {
            pr_warn!(
                "bit field member {} in struct {} is not supported\n",
                mname,
                name
            );
            return Err(EOPNOTSUPP);
        }
        if struct_ops::module_type_id() == 0 && btf.is_module_ptr(member.type_id()) {
            pr_warn!(
                "'struct module' btf id not found. Is CONFIG_MODULES enabled? bpf_struct_ops '{}' needs module support.\n",
                name
            );
            return Err(EOPNOTSUPP);
        }

        // A function pointer with a stub is the programs' interface; no
        // program may implement anything else.
        let Some(stub) = desc.cfi_stub(&member) else {
            continue;
        };
        let Some(proto) = btf.resolve_func_ptr(member.type_id()) else {
            continue;
        };
        if btf.returns_non_struct_ptr(proto) {
            pr_warn!(
                "func ptr {} in struct {} returns non-struct pointer, which is not supported\n",
                mname,
                name
            );
            return Err(EOPNOTSUPP);
        }
        let Ok(model) = desc.func_model(&member, log.as_deref_mut()) else {
            pr_warn!("Error in parsing func ptr {} in struct {}\n", mname, name);
            return Err(EINVAL);
        };
        if model.ret_size > struct_ops::MAX_RET_SIZE {
            pr_warn!(
                "func ptr {} in struct {} has a >8 byte return value, which is not supported\n",
                mname,
                name
            );
            return Err(EOPNOTSUPP);
        }
        check_tagged_args(desc, &member, mname, stub)?;
    }

    if desc.init_subsystem().is_err() {
        pr_warn!("Error in init bpf_struct_ops {}\n", desc.st_ops().name());
        return Err(EINVAL);
    }
    desc.fill().map(|_| ())
}

/// The value type must be `{ struct bpf_struct_ops_common_value; <t> data; }`.
fn check_value_type(btf: &Btf, value_id: u32, t: &BtfType, value_name: &CStr) -> Result {
    let vt = btf.type_by_id(value_id).ok_or(EINVAL)?;
    if vt.vlen() != 2 {
        pr_warn!(
            "The number of {}'s members should be 2, but we get {}\n",
            value_name,
            vt.vlen()
        );
        return Err(EINVAL);
    }
    let common = Btf::vmlinux()
        .ok()
        .flatten()
        .and_then(|v| v.type_by_id(struct_ops::common_value_type_id()))
        .map(BtfType::as_raw);
    let mut members = vt
        .members()
        .map(|m| btf.type_by_id(m.type_id()).map(BtfType::as_raw));
    if members.next().flatten() != common || common.is_none() {
        pr_warn!(
            "The first member of {} should be bpf_struct_ops_common_value\n",
            value_name
        );
        return Err(EINVAL);
    }
    if members.next().flatten() != Some(t.as_raw()) {
        pr_warn!(
            "The second member of {} should be {}\n",
            value_name,
            btf.type_name(t)
        );
        return Err(EINVAL);
    }
    Ok(())
}

/// Checks the arguments the member's CFI stub tags by the suffix of their
/// names (`*__nullable`, `*__ref`, `*__arena`, `*__arena__nullable`), with
/// 7.3's messages.
fn check_tagged_args(
    desc: &DescSlot<'_>,
    member: &Member<'_>,
    mname: &CStr,
    stub: CfiStub,
) -> Result {
    let st_name = desc.st_ops().name();
    let Err(e) = desc.tagged_args(member) else {
        return Ok(());
    };
    let stub_name = stub.name();
    let stub_name = stub_name.as_deref().unwrap_or(c"");
    match e {
        ArgTagError::NoStubName => pr_warn!(
            "Cannot find the stub function name for the {} in struct {}\n",
            mname,
            st_name
        ),
        ArgTagError::NoStubFunc => {
            pr_warn!("Cannot find the stub function {} in btf\n", stub_name)
        }
        ArgTagError::ArgCount => pr_warn!(
            "the number of arguments of the stub function {} does not match the number of arguments of the member {} of struct {}\n",
            stub_name,
            mname,
            st_name
        ),
        ArgTagError::Unsupported(_, tag) => pr_warn!(
            "stub function {} has {} tagging to an unsupported type\n",
            stub_name,
            tag.suffix()
        ),
        ArgTagError::CtxOffset(arg_no) => pr_warn!(
            "stub function {} has an invalid trampoline ctx offset for arg#{}\n",
            stub_name,
            arg_no
        ),
        ArgTagError::TypeMismatch(arg_no) => pr_warn!(
            "arg#{} type in stub function {} does not match with its original func_proto\n",
            arg_no,
            stub_name
        ),
        ArgTagError::NoMemory => (),
    }
    Err(e.into())
}
