use super::*;
use std::io;

#[test]
fn classifiers_read_the_kernels_errno_only() {
    let k = |e| Error::kernel("x".into(), e, None);
    assert!(is_gone(&k(libc::ENODEV)) && is_gone(&k(libc::ESRCH)));
    assert!(is_gone(&k(libc::EADDRNOTAVAIL)) && is_gone(&k(libc::ENOENT)));
    assert!(is_unsupported(&k(libc::EOPNOTSUPP)));
    assert!(is_exists(&k(libc::EEXIST)));
    assert!(!is_gone(&k(libc::EEXIST)) && !is_exists(&k(libc::ENODEV)));
    // A socket error is no answer of the kernel's.
    let io = Error::io("x".into(), io::Error::from_raw_os_error(libc::ENODEV));
    assert!(!is_gone(&io) && !is_unsupported(&io) && !is_exists(&io));
}

#[test]
fn errors_say_what_was_asked() {
    let e = Error::kernel(
        "create sit link he6".into(),
        libc::EEXIST,
        Some("Link already exists".into()),
    );
    let s = e.to_string();
    assert!(s.starts_with("create sit link he6: "), "{s}");
    assert!(
        s.contains("os error 17") && s.ends_with("(Link already exists)"),
        "{s}"
    );
}
