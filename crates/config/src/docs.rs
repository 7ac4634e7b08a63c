//! docs/config.md is generated from config/v6router.toml (the annotated
//! reference) and checked against the schema: every key the schema has must
//! appear in the reference, and the page must be current. Regenerate with
//! `V6ROUTER_REGEN_DOCS=1 cargo test -p v6config docs`.

/// The Markdown reference generated from the annotated example's text:
/// one table per section, a row per `key = value  # comment` line.
pub fn generate(reference: &str) -> String {
    let mut out = String::from(
        "# Configuration reference\n\n\
         Generated from `config/v6router.toml` (the annotated example of every key) by\n\
         `V6ROUTER_REGEN_DOCS=1 cargo test -p v6config docs`; a test fails when this page,\n\
         the example and the schema disagree. Durations are seconds unless a key says\n\
         otherwise. A section that is absent is off.\n\n\
         Check a file with `v6routerd check -c FILE`: errors name the file, line, column and\n\
         key, with a suggestion for misspelt or radvd-style keys.\n",
    );
    let mut in_table = false;
    for line in reference.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            let (header, note) = split_comment(t);
            out.push_str(&format!("\n## `{header}`\n\n"));
            if !note.is_empty() {
                out.push_str(&format!("{note}\n\n"));
            }
            out.push_str("| key | example | meaning |\n|---|---|---|\n");
            in_table = true;
        } else if in_table && !t.starts_with('#') && t.contains('=') {
            let (kv, note) = split_comment(t);
            if let Some((k, v)) = kv.split_once('=') {
                out.push_str(&format!(
                    "| `{}` | `{}` | {} |\n",
                    k.trim(),
                    v.trim().replace('|', "\\|"),
                    note.replace('|', "\\|")
                ));
            }
        } else if let Some(c) = t.strip_prefix("# ").filter(|_| in_table) {
            // A commented-out option: still documented.
            if let Some((kv, note)) = c.split_once('#') {
                if let Some((k, v)) = kv.split_once('=') {
                    out.push_str(&format!(
                        "| `{}` | `{}` | {} |\n",
                        k.trim(),
                        v.trim(),
                        note.trim()
                    ));
                }
            }
        }
    }
    out
}

/// `key = "a # b"   # note` -> (`key = "a # b"`, `note`), minding quotes.
fn split_comment(line: &str) -> (String, String) {
    let mut in_str = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '#' if !in_str => {
                return (
                    line[..i].trim().to_string(),
                    line[i + 1..].trim().to_string(),
                )
            }
            _ => {}
        }
    }
    (line.trim().to_string(), String::new())
}

/// Every key path of a value (`interface.ra.prefix.on_link`), arrays looked
/// into through all their elements.
pub fn key_paths(v: &serde_json::Value, base: &str, out: &mut std::collections::BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = if base.is_empty() {
                    k.clone()
                } else {
                    format!("{base}.{k}")
                };
                out.insert(p.clone());
                key_paths(x, &p, out);
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                key_paths(x, base, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
