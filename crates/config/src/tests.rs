use super::*;
use std::path::PathBuf;

fn f() -> PathBuf {
    PathBuf::from("test.toml")
}

#[test]
fn empty_and_control_only_are_valid() {
    parse("", &f()).unwrap();
    let l = parse("[control]\nsocket = \"/tmp/x.sock\"\n", &f()).unwrap();
    assert_eq!(l.config.control.socket, PathBuf::from("/tmp/x.sock"));
    assert!(l.config.interfaces.is_empty());
}

#[test]
fn empty_ra_table_is_default() {
    let l = parse("[[interface]]\nname = \"eth1\"\n[interface.ra]\n", &f()).unwrap();
    assert_eq!(l.config.interfaces[0].ra, Some(Ra::default()));
}

/// RFC 7084's CE-router behaviour is the default (G-4/G-5, L-3), and
/// prefixes get RFC 9096 §3's recommended lifetimes.
#[test]
fn ce_router_defaults() {
    let src = "[[interface]]\nname = \"eth1\"\n[interface.ra]\n[[interface.ra.prefix]]\nprefix = \"::/64\"\n";
    let l = parse(src, &f()).unwrap();
    let ra = l.config.interfaces[0].ra.as_ref().unwrap();
    assert!(ra.require_default_route && ra.home_routes);
    let p = &ra.prefixes[0];
    assert_eq!((p.preferred_lifetime, p.valid_lifetime), (2700, 5400));
}

#[test]
fn wrong_case_key_names_place_and_suggests() {
    let src = "[[interface]]\nname = \"eth1\"\n[interface.ra]\nManagedFlag = true\n";
    let e = parse(src, &f()).unwrap_err();
    let d = &e.0[0];
    assert_eq!((d.line, d.col), (4, 1));
    assert_eq!(d.key.as_deref(), Some("interface[0].ra.ManagedFlag"));
    assert!(
        d.message
            .contains("unknown key `ManagedFlag` in [interface.ra]"),
        "{}",
        d.message
    );
    assert!(d.help.as_deref().unwrap_or("").contains("`managed`"));
    let text = e.to_string();
    assert!(text.contains("test.toml:4:1"), "{text}");
}

#[test]
fn unknown_top_level_section() {
    let e = parse("[rip]\ninterfaces = []\n", &f()).unwrap_err();
    assert!(
        e.0[0].help.as_deref().unwrap_or("").contains("ripng"),
        "{e}"
    );
}

#[test]
fn type_error_has_position() {
    let src = "[[interface]]\nname = \"eth1\"\n[interface.ra]\nmax_interval = \"soon\"\n";
    let e = parse(src, &f()).unwrap_err();
    assert_eq!(e.0[0].line, 4);
    assert_eq!(e.0[0].key.as_deref(), Some("interface[0].ra.max_interval"));
}

/// A table written as an array (serde's positional form, which toml
/// took) is a type error at the array.
#[test]
fn array_for_a_table_is_a_type_error() {
    let src = "[[interface]]\nname = \"eth1\"\nassign = [\"wan\", 64, 1]\n";
    let e = parse(src, &f()).unwrap_err();
    let d = &e.0[0];
    assert_eq!((d.line, d.col), (3, 10));
    assert_eq!(d.key.as_deref(), Some("interface[0].assign"));
    assert_eq!(d.message, "invalid type: sequence, expected struct Assign");
}

#[test]
fn reference_config_is_valid() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/v6router.toml");
    let l = load(Path::new(path)).unwrap_or_else(|e| panic!("{e}"));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    for lab in ["lab.toml", "lab-cascade.toml"] {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../config")
            .join(lab);
        let l = load(&p).unwrap_or_else(|e| panic!("{lab}: {e}"));
        assert!(l.warnings.is_empty(), "{lab}: {:?}", l.warnings);
    }
}
