//! The process heap: tuned once at start, trimmed after bursts.

/// glibc's heap for a table that arrives in bursts: large blocks always
/// mapped (so freed ones go back), instead of the threshold rising after
/// the first large free and later ones piling up in the heap.
///
/// These are process-wide settings, made at start because RIPng is what
/// allocates in bursts (700 datagrams and their route batches every 30 s at
/// 50,000 routes). For the rest of the daemon they only mean that a block
/// of 256 KiB or more (DHCPv6's lease table as it grows, a kernel dump) is
/// mmap'ed and unmapped when freed, and that up to 1 MiB of free heap top
/// is kept: glibc's defaults (128 KiB, 128 KiB) except that the mmap
/// threshold no longer rises after the first large free. The cost is page
/// faults when such a block is made again (5 % of the sender's CPU at
/// 10,000 routes in perf); with the trims below it took the receiver's RSS
/// at 50,000 routes from 19-33 MB to 15.7 MB (commit 4242209).
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * 1024);
    }
}

/// Return freed heap memory to the kernel (glibc keeps it otherwise; musl
/// returns large blocks by itself).
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory that is already free.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// `show memory`: the process's memory as the kernel counts it.
pub fn memory() -> v6control::MemoryInfo {
    memory_from(&std::fs::read_to_string("/proc/self/status").unwrap_or_default())
}

/// Read `VmRSS`, `VmHWM`, `VmData` and `VmSwap` (in kB) from a
/// /proc/PID/status text; absent ones are 0.
fn memory_from(status: &str) -> v6control::MemoryInfo {
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |k| k * 1024)
    };
    v6control::MemoryInfo {
        resident: kb("VmRSS"),
        peak_resident: kb("VmHWM"),
        data: kb("VmData"),
        swapped: kb("VmSwap"),
    }
}

#[cfg(test)]
mod tests;
