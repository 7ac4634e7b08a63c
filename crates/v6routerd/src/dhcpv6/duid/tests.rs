use super::super::fixtures::{view, CFG};
use super::*;

#[test]
fn server_duid_is_made_once_and_kept() {
    let dir = std::env::temp_dir().join(format!(
        "v6r-duid-{}-{}",
        std::process::id(),
        fastrand::u32(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = v6config::parse(CFG, Path::new("t.toml")).unwrap().config;
    let d1 = server_duid(&dir, &cfg, &view()).unwrap();
    assert_eq!(
        d1.duid_type(),
        1,
        "DUID-LLT from the served interface's MAC"
    );
    assert_eq!(d1.mac(), Some([2, 0, 0, 0, 0, 1]));
    let d2 = server_duid(&dir, &cfg, &KernelView::default()).unwrap();
    assert_eq!(d1, d2);
    std::fs::write(dir.join(DUID_FILE), "garbage").unwrap();
    assert!(server_duid(&dir, &cfg, &view()).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
