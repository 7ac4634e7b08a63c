use super::iaid_of;

#[test]
fn iaids_are_stable_and_differ() {
    assert_eq!(iaid_of("wan0"), iaid_of("wan0"));
    assert_ne!(iaid_of("wan0"), iaid_of("wan1"));
}
