// SPDX-License-Identifier: GPL-2.0

//! TCP congestion control implemented by BPF: `struct tcp_congestion_ops`
//! as a struct_ops type, defined in Rust (`CONFIG_BPF_TCP_CA_RUST`, in
//! place of `bpf_tcp_ca.c`).
//!
//! What BTF must see stays in `bpf_tcp_ca_btf.c`: the CFI stubs, the kfuncs
//! and the initcall that registers the type, whose table this file exports.
//!
//! The crate denies `unsafe_code`: only the calls into TCP's own C
//! (`tcp_cong.c`), the `bpf_tcp_send_ack()` helper, which BPF calls with
//! arguments the verifier checked, and the type's decisions the verifier
//! trusts (its CFI stubs, which helpers and writes its programs get, the
//! `sock` to `tcp_sock` promotion) are allowed it, one by one.

#![deny(unsafe_code)]

use core::mem::offset_of;
use kernel::{
    bindings,
    bpf::{
        btf::{Btf, KIND_STRUCT},
        prog::LoadingProg,
        struct_ops_type::{
            InitMember, Link, Published, StructOpsTable, StructOpsType, Unregistered,
            VerifierOpsTable, WritableField, WritableFields,
        },
        verifier::{AccessInfo, AccessType, FuncProto},
    },
    error::{code::*, Result},
    sync::atomic::{Atomic, Relaxed},
    writable_field,
};

/// The struct_ops type of TCP congestion controls.
pub struct TcpCongestionOps;

/// The module the `#[vtable]` impls of this crate belong to: none, the
/// crate is built in.
pub struct LocalModule;

impl kernel::ModuleMetadata for LocalModule {
    const NAME: &'static kernel::str::CStr = c"bpf_tcp_ca";
    // A built-in crate: the kernel's own null `THIS_MODULE`.
    #[allow(unsafe_code)]
    const THIS_MODULE: kernel::ThisModule = {
        // SAFETY: A null module pointer stands for the kernel itself, which
        // `try_module_get`/`module_put` accept.
        unsafe { kernel::ThisModule::from_ptr(core::ptr::null_mut()) }
    };
}

type Ops = bindings::tcp_congestion_ops;
type TcpSock = bindings::tcp_sock;

/// BTF ids of `struct sock` and `struct tcp_sock` in vmlinux, set by `init`.
static SOCK_ID: Atomic<u32> = Atomic::new(0);
static TCP_SOCK_ID: Atomic<u32> = Atomic::new(0);

/// What congestion controls may write in the `tcp_sock` they are given.
const TCP_SOCK_WRITABLE: &[WritableField] = &[
    writable_field!(TcpSock, inet_conn.icsk_inet.sk.sk_pacing_rate),
    writable_field!(TcpSock, inet_conn.icsk_inet.sk.sk_pacing_status),
    writable_field!(TcpSock, inet_conn.icsk_ca_priv, anywhere),
    writable_field!(TcpSock, inet_conn.icsk_ack.pending),
    writable_field!(TcpSock, snd_cwnd),
    writable_field!(TcpSock, snd_cwnd_cnt),
    writable_field!(TcpSock, snd_cwnd_stamp),
    writable_field!(TcpSock, snd_ssthresh),
    writable_field!(TcpSock, ecn_flags),
    writable_field!(TcpSock, app_limited),
];

/// The type's table, which `bpf_tcp_ca_btf.c` registers.
#[allow(unsafe_code)] // An entry point from C.
#[no_mangle]
pub static bpf_tcp_congestion_ops: StructOpsTable<TcpCongestionOps> =
    // SAFETY: `bpf_tcp_ca_btf.c`'s stubs of `struct tcp_congestion_ops`, a
    // const static of the kernel image, whose members are its functions;
    // the type's only table, which `table()` returns.
    unsafe {
        StructOpsTable::new(
            &TCP_VERIFIER_OPS,
            &raw const bindings::__bpf_ops_tcp_congestion_ops,
        )
    };

static TCP_VERIFIER_OPS: VerifierOpsTable<TcpCongestionOps> = VerifierOpsTable::new();

/// `bpf_tcp_send_ack(tp, rcv_nxt)`: sends an ACK on a congestion control's
/// socket.
///
/// # Safety
///
/// `tp` is a `tcp_sock` the caller holds locked. The verifier lets only a
/// pointer of that BTF type through, but does not ensure the lock: as for
/// `bpf_tcp_ca.c`, it also takes one a program read from another struct,
/// not only the op's own socket, which TCP calls its ops with, locked.
#[allow(unsafe_code)]
unsafe extern "C" fn bpf_tcp_send_ack(tp: u64, rcv_nxt: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: The caller's promise; a congestion control's socket is never
    // NULL. The helper takes the low 32 bits of `rcv_nxt`, as C does.
    unsafe { bindings::__tcp_send_ack(tp as usize as *mut bindings::sock, rcv_nxt as u32, 0) };
    0
}

#[allow(unsafe_code)]
static SEND_ACK_PROTO: FuncProto<TcpCongestionOps> =
    // FIXME: The verifier also passes a `tcp_sock` that a program read from
    // another struct, which is not locked, as it does for `bpf_tcp_ca.c`'s
    // proto: to report upstream (design page, "Soundness").
    //
    // SAFETY: The verifier passes `bpf_tcp_send_ack` a `tcp_sock` (arg 1,
    // `TCP_SOCK_ID`, a vmlinux id that `init` sets before any program is
    // verified) and any integer, and the helper is built in. The op's own
    // socket, which programs pass, is locked: TCP calls congestion control
    // ops with it locked.
    unsafe {
        FuncProto::new_int(
            bpf_tcp_send_ack,
            [
                bindings::bpf_arg_type_ARG_PTR_TO_BTF_ID,
                bindings::bpf_arg_type_ARG_ANYTHING,
                bindings::bpf_arg_type_ARG_DONTCARE,
                bindings::bpf_arg_type_ARG_DONTCARE,
                bindings::bpf_arg_type_ARG_DONTCARE,
            ],
            [Some(&TCP_SOCK_ID), None, None, None, None],
        )
    };

impl TcpCongestionOps {
    /// Whether `prog` may set (and get) its socket's options: not in
    /// `release()`, which runs when the congestion control retires.
    fn may_use_sockopt(prog: &LoadingProg) -> bool {
        Self::table()
            .member_offset(prog)
            .is_some_and(|off| off != offset_of!(Ops, release))
    }
}

#[kernel::macros::vtable]
impl StructOpsType for TcpCongestionOps {
    type Ops = Ops;
    const NAME: &'static kernel::str::CStr = c"tcp_congestion_ops";
    #[allow(unsafe_code)]
    // SAFETY: TCP keeps no state a program could break in these fields:
    // they are its congestion control's own (window, threshold, private
    // area, pacing, the pending-ACK flags, ECN state), which it clamps or
    // only compares where it uses them.
    const WRITABLE: WritableFields<Self> =
        unsafe { WritableFields::new(c"tcp_sock", TCP_SOCK_WRITABLE) };

    #[inline]
    fn table() -> &'static StructOpsTable<Self> {
        &bpf_tcp_congestion_ops
    }

    #[inline]
    fn init(btf: &Btf) -> Result {
        let sock = btf
            .find_by_name_kind(c"sock", KIND_STRUCT)
            .map_err(|_| EINVAL)?;
        let tcp_sock = btf
            .find_by_name_kind(c"tcp_sock", KIND_STRUCT)
            .map_err(|_| EINVAL)?;
        SOCK_ID.store(sock, Relaxed);
        TCP_SOCK_ID.store(tcp_sock, Relaxed);
        Ok(())
    }

    // No `SLEEPABLE` member: the ops of a congestion control run in softirq
    // (7.3's `bpf_tcp_ca.c` lets a sleepable program implement one; the C
    // fix is "bpf: tcp: Refuse sleepable struct_ops programs for congestion
    // control").

    #[inline]
    fn init_member(member: &mut InitMember<'_>) -> Result<bool> {
        match member.name().to_bytes() {
            b"flags" => {
                let flags: u32 = member.read()?;
                if flags & !bindings::TCP_CONG_MASK != 0 {
                    return Err(EINVAL);
                }
                member.write(flags)?;
                Ok(true)
            }
            b"name" => match member.copy_obj_name() {
                Ok(len) if len > 0 => Ok(true),
                _ => Err(EINVAL),
            },
            _ => Ok(false),
        }
    }

    #[allow(unsafe_code)]
    #[inline]
    fn validate(ops: &Unregistered<Self>) -> Result {
        // SAFETY: `ops` is a complete congestion control, alive for the call.
        kernel::error::to_result(unsafe { bindings::tcp_validate_congestion_control(ops.as_ptr()) })
    }

    #[allow(unsafe_code)]
    #[inline]
    fn reg(ops: &Published<Self>, _link: Option<&Link>) -> Result {
        // SAFETY: `ops` stays alive and in place until `unreg` returns for
        // it, which takes it off TCP's list.
        kernel::error::to_result(unsafe { bindings::tcp_register_congestion_control(ops.as_ptr()) })
    }

    #[allow(unsafe_code)]
    #[inline]
    fn unreg(ops: &Published<Self>, _link: Option<&Link>) {
        // SAFETY: `ops` is a congestion control `reg` or `update` listed.
        unsafe { bindings::tcp_unregister_congestion_control(ops.as_ptr()) };
    }

    #[allow(unsafe_code)]
    #[inline]
    fn update(new: &Published<Self>, old: &Published<Self>, _link: &Link) -> Result {
        // SAFETY: `new` stays alive and in place until `unreg` returns for
        // it; `old` is listed, and TCP takes it off its list.
        kernel::error::to_result(unsafe {
            bindings::tcp_update_congestion_control(new.as_ptr(), old.as_ptr())
        })
    }

    #[allow(unsafe_code)]
    #[inline]
    fn get_func_proto(
        func_id: bindings::bpf_func_id,
        prog: &LoadingProg,
    ) -> Option<&'static FuncProto<Self>> {
        // TCP calls a congestion control's ops with their socket locked,
        // from its own processing of the socket, where its options may
        // change; but `release()`, which gets neither `bpf_setsockopt()`
        // (it runs as the congestion control retires, and setting options
        // may allocate) nor, to keep the two together, `bpf_getsockopt()`.
        match func_id {
            bindings::bpf_func_id::BPF_FUNC_tcp_send_ack => Some(&SEND_ACK_PROTO),
            bindings::bpf_func_id::BPF_FUNC_sk_storage_get => {
                // SAFETY: The ops run with their socket locked (above): TCP
                // calls them, and Rust cannot (each takes a `struct sock *`,
                // which a safe `Op` cannot pass without an `OpPointee`
                // promise the socket cannot keep). Sockets read from other
                // structs: the FIXME at `SEND_ACK_PROTO`.
                Some(unsafe { FuncProto::sk_storage_get() })
            }
            bindings::bpf_func_id::BPF_FUNC_sk_storage_delete => {
                // SAFETY: As above.
                Some(unsafe { FuncProto::sk_storage_delete() })
            }
            bindings::bpf_func_id::BPF_FUNC_setsockopt if Self::may_use_sockopt(prog) => {
                // SAFETY: As above, and not in `release()`.
                Some(unsafe { FuncProto::sk_setsockopt_nodelay() })
            }
            bindings::bpf_func_id::BPF_FUNC_getsockopt if Self::may_use_sockopt(prog) => {
                // SAFETY: As above.
                Some(unsafe { FuncProto::sk_getsockopt() })
            }
            bindings::bpf_func_id::BPF_FUNC_setsockopt
            | bindings::bpf_func_id::BPF_FUNC_getsockopt => None,
            bindings::bpf_func_id::BPF_FUNC_ktime_get_coarse_ns => {
                // SAFETY: TCP runs congestion control ops in process context
                // or softirq, never in NMI.
                Some(unsafe { FuncProto::ktime_get_coarse_ns() })
            }
            _ => FuncProto::base(func_id, prog),
        }
    }

    #[inline]
    fn is_valid_access(
        _off: i32,
        _size: i32,
        _ty: AccessType,
        _prog: &LoadingProg,
        info: &mut AccessInfo,
    ) -> bool {
        if info.trusted_btf_id() == Some(SOCK_ID.load(Relaxed)) {
            #[allow(unsafe_code)]
            // SAFETY: A congestion control's socket is a `tcp_sock`: TCP
            // calls the ops of its sockets only; `TCP_SOCK_ID` is the id of
            // `tcp_sock` in vmlinux BTF, as `SOCK_ID` is of `sock`.
            unsafe {
                info.set_trusted_btf_id(TCP_SOCK_ID.load(Relaxed))
            };
        }
        true
    }
}
