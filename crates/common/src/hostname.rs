//! Host names as leases carry them: one DNS label of letters, digits and
//! hyphens (RFC 1123 §2.1, RFC 952), what a hosts file or a local resolver
//! can take as it is (no tab, newline or dot sneaks in).

/// A host name label: 1 to 63 letters, digits and inner hyphens.
pub fn is_host_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// The first label of a dotted `name` when it is a host name label.
pub fn host_label(name: &str) -> Option<&str> {
    name.split('.').next().filter(|l| is_host_label(l))
}

#[cfg(test)]
mod tests;
