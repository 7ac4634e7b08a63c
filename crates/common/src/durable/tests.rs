use super::*;

#[test]
fn replaces_whole_and_leaves_no_temporary() {
    let dir = std::env::temp_dir().join(format!("v6durable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("state.json");
    write(&p, b"one").unwrap();
    write(&p, b"two").unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"two");
    assert!(!temp_path(&p).exists());
    // A temporary written but never renamed (a crash between the two)
    // leaves the old file as it was.
    write_temp(&p, b"three").unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"two");
    let _ = std::fs::remove_dir_all(&dir);
}
