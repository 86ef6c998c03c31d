// SPDX-License-Identifier: GPL-2.0-only

//! Descriptors: what the BPF core knows of a struct_ops type a subsystem
//! registered (`register_bpf_struct_ops()`), found once, at registration.

use kernel::{
    bpf::{
        btf::Member,
        struct_ops::{ArgTagError, DescError, DescSlot, VerifierLog},
        trampoline::CfiStub,
    },
    error::Result,
    prelude::*,
};

const VALUE_PREFIX: &str = "bpf_struct_ops_";

/// Fills `desc` for the type `desc.st_ops` names in its BTF, saying why in
/// the kernel log when it cannot, with 7.3's messages and errors. The
/// abstraction checks, computes and writes what is trusted
/// ([`DescSlot::fill`]); this says what it refused.
pub(crate) fn init(desc: DescSlot<'_>, log: Option<&mut VerifierLog>) -> Result {
    let btf = desc.btf();
    let name = desc.st_ops().name();
    let Err(e) = desc.fill(log) else {
        return Ok(());
    };
    let mname = |m: Member<'_>| btf.name_by_offset(m.name_off());
    match e {
        DescError::NameTooLong => pr_warn!("struct_ops name {} is too long\n", name),
        DescError::NoCfiStubs => pr_warn!("struct_ops for {} has no cfi_stubs\n", name),
        DescError::NoStruct => pr_warn!("Cannot find struct {} in {}\n", name, btf.name()),
        DescError::TooManyMembers(n) => {
            pr_warn!("Cannot support #{} members in struct {}\n", n, name)
        }
        DescError::NoValueStruct => pr_warn!(
            "Cannot find struct {}{} in {}\n",
            VALUE_PREFIX,
            name,
            btf.name()
        ),
        DescError::ValueMembers(n) => pr_warn!(
            "The number of {}{}'s members should be 2, but we get {}\n",
            VALUE_PREFIX,
            name,
            n
        ),
        DescError::ValueCommon => pr_warn!(
            "The first member of {}{} should be bpf_struct_ops_common_value\n",
            VALUE_PREFIX,
            name
        ),
        DescError::ValueData => pr_warn!(
            "The second member of {}{} should be {}\n",
            VALUE_PREFIX,
            name,
            name
        ),
        DescError::AnonMember => {
            pr_warn!("anon member in struct {} is not supported\n", name)
        }
        DescError::BitField(m) => pr_warn!(
            "bit field member {} in struct {} is not supported\n",
            mname(m),
            name
        ),
        DescError::NoModules => pr_warn!(
            "'struct module' btf id not found. Is CONFIG_MODULES enabled? bpf_struct_ops '{}' needs module support.\n",
            name
        ),
        DescError::ReturnsNonStructPtr(m) => pr_warn!(
            "func ptr {} in struct {} returns non-struct pointer, which is not supported\n",
            mname(m),
            name
        ),
        DescError::FuncProto(m) => {
            pr_warn!("Error in parsing func ptr {} in struct {}\n", mname(m), name)
        }
        DescError::RetSize(m) => pr_warn!(
            "func ptr {} in struct {} has a >8 byte return value, which is not supported\n",
            mname(m),
            name
        ),
        DescError::ArgTag(m, stub, e) => warn_tagged_args(name, mname(m), stub, e),
        DescError::Init => pr_warn!("Error in init bpf_struct_ops {}\n", name),
        DescError::NoMemory | DescError::Internal => (),
    }
    Err(e.into())
}

/// Says why the arguments the member `mname`'s CFI stub tags by the suffix
/// of their names (`*__nullable`, `*__ref`, `*__arena`,
/// `*__arena__nullable`) were refused, with 7.3's messages.
#[cold]
fn warn_tagged_args(st_name: &CStr, mname: &CStr, stub: CfiStub, e: ArgTagError) {
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
}
