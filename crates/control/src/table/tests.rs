use super::*;

#[test]
fn aligned() {
    let t = table(
        &["Name", "State"],
        vec![
            vec!["ripng1".into(), "up".into()],
            vec!["x".into(), "down".into()],
        ],
    );
    assert_eq!(t, "Name   State\nripng1 up\nx      down\n");
    assert_eq!(duration(3725), "1h 2m");
    assert_eq!(duration(59), "59s");
}
