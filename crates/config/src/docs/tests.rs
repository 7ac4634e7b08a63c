use super::*;
use std::path::Path;

fn root(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

#[test]
fn docs_config_md_is_generated_from_the_reference() {
    let reference = std::fs::read_to_string(root("config/v6router.toml")).unwrap();
    let page = generate(&reference);
    let path = root("docs/config.md");
    if std::env::var_os("V6ROUTER_REGEN_DOCS").is_some() {
        std::fs::write(&path, &page).unwrap();
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == page,
        "docs/config.md is stale: run V6ROUTER_REGEN_DOCS=1 cargo test -p v6config docs"
    );
}

#[test]
fn the_reference_names_every_key_of_the_schema() {
    let reference = std::fs::read_to_string(root("config/v6router.toml")).unwrap();
    let cfg = crate::parse(&reference, Path::new("v6router.toml"))
        .unwrap()
        .config;
    // Serialising writes every field, None as null: the schema's full key set.
    let v = serde_json::to_value(&cfg).unwrap();
    let mut keys = Default::default();
    key_paths(&v, "", &mut keys);
    // The reference written back must parse to the same keys: a key only
    // in the schema (not written in the example) shows up as missing text.
    for k in &keys {
        let last = k.rsplit('.').next().unwrap();
        let serde_name = match last {
            "interfaces" if !k.starts_with("ripng") => "interface",
            "tunnels" => "tunnel",
            "prefixes" => "prefix",
            "routes" if k.contains(".ra.") => "route",
            "hosts" => "host",
            x => x,
        };
        let written = reference.lines().any(|l| {
            let t = l.trim_start().trim_start_matches("# ");
            t.starts_with(&format!("{serde_name} "))
                || t.starts_with(&format!("{serde_name}="))
                || t.contains(&format!("[{serde_name}]"))
                || t.contains(&format!(".{serde_name}]"))
                || t.contains(&format!("[[{serde_name}]]"))
                || t.contains(&format!("{{ {serde_name} ="))
                || t.contains(&format!(", {serde_name} ="))
        });
        assert!(written, "schema key `{k}` is not in config/v6router.toml");
    }
}
