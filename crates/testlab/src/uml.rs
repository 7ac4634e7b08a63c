//! Starting User-Mode Linux on hosts whose CPUs have large XSAVE areas.
//!
//! Debian's UML kernel (6.1) sizes its buffer for the host's extended FPU
//! state at build time. On a host CPU with AVX-512 or AMX the host's XSAVE
//! area is larger (11,008 bytes with AMX), and since Linux 5.14 the host's
//! `PTRACE_SETREGSET(NT_X86_XSTATE)` refuses any buffer that is not exactly
//! that size with EFAULT. UML then dies at its first user process with
//! "ptrace set fp regs failed, errno = 14".
//!
//! UML decides whether to use XSTATE by trying `PTRACE_GETREGSET` once at
//! boot; when that fails it uses `PTRACE_GETFPREGS`/`SETFPREGS` (the 512-byte
//! FXSAVE area), which works on every x86_64 host. So we start `linux.uml`
//! under a seccomp filter that makes exactly the XSTATE regset calls fail
//! with EIO.
//!
//! What FXSAVE does not carry (the upper halves of the AVX registers) is then
//! shared by the guest threads of one process, since UML runs them in one
//! host process. Our binaries are built for baseline x86_64 (SSE2), and the
//! guest's glibc is told not to pick AVX string functions, so no guest
//! thread keeps live state there.

use std::os::unix::process::CommandExt;
use std::process::Command;

const PTRACE_GETREGSET: u32 = 0x4204;
const PTRACE_SETREGSET: u32 = 0x4205;
const NT_X86_XSTATE: u32 = 0x202;

/// `linux.uml` as a command that boots on any x86_64 host (see the module
/// comment); add the kernel's command line with `.args`.
pub fn linux_uml() -> Command {
    let mut cmd = Command::new("linux.uml");
    // UML hands `NAME=value` words it does not know to init's environment.
    cmd.arg("GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX512BW,-AVX_Fast_Unaligned_Load");
    // SAFETY: the closure runs between fork and exec and only makes two
    // prctl calls, which are async-signal-safe, on data it owns.
    unsafe {
        cmd.pre_exec(|| hide_xstate_regset().map_err(std::io::Error::from_raw_os_error));
    }
    cmd
}

fn hide_xstate_regset() -> Result<(), i32> {
    use libc::{sock_filter, sock_fprog};
    let stmt = |code: u32, k: u32| sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let jump = |code: u32, k: u32, jt: u8, jf: u8| sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    // Offsets in struct seccomp_data: nr at 0, args[i] at 16 + 8 * i
    // (the low 32 bits on little-endian x86_64).
    let (nr, arg0, arg2) = (0, 16, 32);
    let ld = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    let jeq = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
    let ret = libc::BPF_RET | libc::BPF_K;
    let mut filter = [
        stmt(ld, nr),
        jump(jeq, libc::SYS_ptrace as u32, 0, 6),
        stmt(ld, arg2),
        jump(jeq, NT_X86_XSTATE, 0, 4),
        stmt(ld, arg0),
        jump(jeq, PTRACE_GETREGSET, 1, 0),
        jump(jeq, PTRACE_SETREGSET, 0, 1),
        stmt(ret, libc::SECCOMP_RET_ERRNO | libc::EIO as u32),
        stmt(ret, libc::SECCOMP_RET_ALLOW),
    ];
    let prog = sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_mut_ptr(),
    };
    // SAFETY: plain prctl calls; `prog` outlives them.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &prog) != 0
        {
            return Err(*libc::__errno_location());
        }
    }
    Ok(())
}
