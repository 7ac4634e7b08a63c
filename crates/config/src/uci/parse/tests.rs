use super::*;

fn p(src: &str) -> (Package, Vec<Diagnostic>) {
    parse(src, Path::new("/etc/config/t"))
}

#[test]
fn quoting_like_libuci() {
    let (pkg, d) = p("config a 'x'\n\toption q1 'two words'\n\toption q2 \"a\\\"b\"\n\toption q3 plain # c\n\toption q4 'a'\"b\"c\n\toption q5 long\\\nline\n");
    assert!(d.is_empty(), "{d:?}");
    let s = &pkg.sections[0];
    assert_eq!(s.str("q1"), Some("two words"));
    assert_eq!(s.str("q2"), Some("a\"b"));
    assert_eq!(s.str("q3"), Some("plain"));
    assert_eq!(s.str("q4"), Some("abc"));
    assert_eq!(s.str("q5"), Some("longline"));
    assert_eq!((s.get("q2").map(|o| o.line)), Some(3));
}

#[test]
fn lists_and_merges() {
    let (pkg, d) = p("config device\n\tlist ports 'lan1'\n\tlist ports lan2\nconfig interface lan\n\toption a 1\nconfig interface lan\n\toption b 2\n");
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(pkg.sections.len(), 2);
    assert_eq!(
        pkg.sections[0].get("ports").map(|o| o.value.items()),
        Some(vec!["lan1", "lan2"])
    );
    assert_eq!(pkg.sections[1].label(0), "lan");
    assert_eq!(pkg.sections[1].str("a"), Some("1"));
    assert_eq!(pkg.sections[1].str("b"), Some("2"));
    assert_eq!(pkg.sections[0].label(0), "@device[0]");
}

#[test]
fn errors_have_places_and_do_not_stop_the_file() {
    let src = "option early 1\nconfig a b\n\toption x 'open\n\toption y \"ok\"\n\tbogus z\n\toption k v extra\nconfig a 'bad name'\n";
    let (pkg, d) = p(src);
    let at: Vec<(usize, usize, &str)> = d
        .iter()
        .map(|d| (d.line, d.col, d.message.as_str()))
        .collect();
    assert_eq!(
        at,
        vec![
            (1, 1, "`option` outside a section"),
            (3, 11, "unterminated '"),
            (5, 2, "unknown statement `bogus`"),
            (6, 13, "too many words on this line"),
            (7, 10, "invalid section name `bad name`"),
        ]
    );
    assert_eq!(pkg.sections[0].str("y"), Some("ok"));
    assert!(d
        .iter()
        .all(|x| x.file == Path::new("/etc/config/t") && x.source_line.is_some()));
}

#[test]
fn never_panics_on_odd_bytes() {
    for src in [
        "\\",
        "'",
        "\"\\",
        "config",
        "config a\noption",
        "config a\n\tlist",
        "\u{feff}config é 'ü'\n",
        "config a\noption b '\\'\n",
    ] {
        let _ = p(src);
    }
}
