use super::*;
use crate::Config;

/// (message, span) of toml's own deserializer, the reference behaviour.
fn by_toml(src: &str) -> Result<Config, (String, Option<Range<usize>>)> {
    toml::from_str(src).map_err(|e| (e.message().to_string(), e.span()))
}

fn by_us(src: &str) -> Result<Config, (String, Option<Range<usize>>)> {
    from_str(src).map_err(|e| (e.message, e.span))
}

/// Values that exercise every visitor path: wrong types, out of range,
/// overflow, datetimes, enums written as tables, bad strings.
const VALUES: &[&str] = &[
    "\"x\"",
    "\"auto\"",
    "\"::/64\"",
    "\"low\"",
    "1",
    "-1",
    "300",
    "4294967296",
    "99999999999999999999",
    "340282366920938463463374607431768211456",
    "1.5",
    "inf",
    "true",
    "[]",
    "[1]",
    "[\"::/64\", \"bad\"]",
    "{}",
    "{ high = {} }",
    "{ high = 1 }",
    "{ a = 1, b = 2 }",
    "1979-05-27T07:32:00Z",
    "0x10",
];

/// Each reference file, and the annotated one with one line changed: the
/// value replaced, the key misspelt, or the line dropped.
fn corpus() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/");
    let mut out = Vec::new();
    for f in ["v6router.toml", "lab.toml", "lab-cascade.toml"] {
        let src = std::fs::read_to_string(format!("{dir}{f}")).expect("reference config");
        let lines: Vec<&str> = src.lines().collect();
        out.push((f.to_string(), src.clone()));
        // The reference has every key; the lab files add nothing to mutate.
        if f != "v6router.toml" {
            continue;
        }
        for (i, l) in lines.iter().enumerate() {
            let mut with = |new: String| {
                let mut v: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
                let label = format!("{f}:{}: {new}", i + 1);
                v[i] = new;
                out.push((label, v.join("\n")));
            };
            with(String::new());
            if let Some((k, _)) = l.split_once('=') {
                with(format!("{}x = 1", k.trim_end()));
                for val in VALUES {
                    with(format!("{k}= {val}"));
                }
            }
        }
    }
    let odd = [
        "[[interface]]\nname = \"a\"\nassign = { from = \"b\", subnet = -3 }\n",
        "x = ",
    ];
    out.extend(odd.iter().map(|s| (s.to_string(), s.to_string())));
    out
}

/// The intended differences. toml hands a datetime to a struct as a map
/// with an internal key, and the diagnostic then called that key unknown.
/// toml took an array as a struct with positional fields; here that is a
/// type error at the array, whatever toml made of it.
fn intended(
    us: &Result<Config, (String, Option<Range<usize>>)>,
    them: &Result<Config, (String, Option<Range<usize>>)>,
) -> bool {
    match (us, them) {
        (Err((m, _)), _) if m.starts_with("invalid type: sequence, expected struct ") => true,
        (Err((m, s)), Err((t, ts))) => {
            t.contains("`$__toml_private_datetime`")
                && m.starts_with("invalid type: map, expected struct ")
                && s == ts
        }
        _ => false,
    }
}

#[test]
fn same_results_as_toml_from_str() {
    let mut differ = Vec::new();
    for (label, src) in corpus() {
        let (us, them) = (by_us(&src), by_toml(&src));
        if us != them && !intended(&us, &them) {
            differ.push(format!(
                "{label}\n  us:   {:?}\n  toml: {:?}",
                us.err(),
                them.err()
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
