use super::iaid_of;

#[test]
fn iaids_are_stable_and_differ() {
    assert_eq!(iaid_of("wan0"), iaid_of("wan0"));
    assert_ne!(iaid_of("wan0"), iaid_of("wan1"));
}

/// RFC 4193 §3.2: the ULA /48 is made once and kept; a file that does not
/// hold one (a damaged disk, a bad hand edit) is replaced by a new one
/// that is then kept in turn.
#[test]
fn the_ula_is_made_once_and_a_damaged_file_replaced() {
    let dir = std::env::temp_dir().join(format!("v6t-ula-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let made = super::load_ula(&dir);
    assert_eq!(made.len(), 48);
    assert_eq!(made.addr().segments()[0] & 0xff00, 0xfd00, "{made}");
    assert_eq!(super::load_ula(&dir), made);
    for damaged in ["", "fd12:3456:78", "\0\0\0\0"] {
        std::fs::write(dir.join("ula"), damaged).unwrap();
        let new = super::load_ula(&dir);
        assert_eq!(new.len(), 48, "{damaged:?}");
        assert_eq!(super::load_ula(&dir), new, "{damaged:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
