use super::*;

#[test]
fn labels() {
    assert!(is_host_label("my-pc2"));
    for bad in [
        "",
        "-pc",
        "pc-",
        "pc_1",
        "a b",
        "a\tb",
        "a.b",
        &"x".repeat(64),
    ] {
        assert!(!is_host_label(bad), "{bad:?}");
    }
    assert_eq!(host_label("laptop.home.arpa"), Some("laptop"));
    assert_eq!(host_label("lap top.home"), None);
}
