use super::*;

#[test]
fn suggestions() {
    let c = ["managed", "other_config", "mtu", "max_interval"];
    assert_eq!(suggest("ManagedFlag", &c), Some("managed"));
    assert_eq!(suggest("AdvManagedFlag", &c), Some("managed"));
    assert_eq!(suggest("Managed", &c), Some("managed"));
    assert_eq!(suggest("max_intervall", &c), Some("max_interval"));
    assert_eq!(suggest("MaxInterval", &c), Some("max_interval"));
    assert_eq!(suggest("AdvLinkMTU", &c), Some("mtu"));
    assert_eq!(suggest("banana", &c), None);
}

#[test]
fn locate_nested_arrays() {
    let src = "[router]\nstate_dir = \"/x\"\n\n[[interface]]\nname = \"a\"\n\n[[interface]]\nname = \"b\"\nassign = { from = \"a\", subnet = 1 }\n[interface.ra]\nmax_interval = 3\n[[interface.ra.prefix]]\nprefix = \"::/64\"\n";
    let l = Locator::new(src);
    assert_eq!(l.find("interface[1].ra.max_interval"), Some((11, 1, 12)));
    assert_eq!(l.find("interface[1].ra.prefix[0].prefix"), Some((13, 1, 6)));
    assert_eq!(
        l.find("interface[1].assign.subnet").map(|x| (x.0, x.1)),
        Some((9, 24))
    );
    assert_eq!(l.find("interface[0].name").map(|x| x.0), Some(5));
    // Missing key: nearest ancestor.
    assert_eq!(l.find("interface[1].ra.mtu").map(|x| x.0), Some(10));
    assert_eq!(
        l.path_at(11, 1).as_deref(),
        Some("interface[1].ra.max_interval")
    );
}

#[test]
fn line_cols() {
    assert_eq!(line_col("a\nbc\n", 3), (2, 2));
    assert_eq!(line_col("", 5), (1, 1));
}
