#[test]
fn memory_from_proc_status() {
    let m = super::memory_from(
        "Name:\tv6routerd\nVmHWM:\t    3000 kB\nVmRSS:\t    2048 kB\nVmData:\t     512 kB\n",
    );
    assert_eq!(
        (m.resident, m.peak_resident, m.data, m.swapped),
        (2048 * 1024, 3000 * 1024, 512 * 1024, 0)
    );
}
