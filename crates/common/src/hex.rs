//! Hex notation of bytes as DHCP tools write it (ISC dhcpd, WIDE dhcp6s,
//! odhcpd): DUIDs and link-layer addresses.

/// Lower-case hex without separators (odhcpd's `odhcpd_hexlify`, test
/// vectors).
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// Colon-separated lower-case hex (`00:01:00:01:…`), the notation of ISC
/// dhcpd, WIDE dhcp6s and `ip link`.
pub fn hex_colon(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// Hex bytes with optional `:`/`-` separators; each byte one or two digits
/// when separated (`0:1:2` as in some WIDE configs), two when not.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.contains(':') || s.contains('-') {
        s.split([':', '-'])
            .map(|p| {
                if p.is_empty() || p.len() > 2 {
                    None
                } else {
                    u8::from_str_radix(p, 16).ok()
                }
            })
            .collect()
    } else {
        if s.len() & 1 != 0 || s.is_empty() {
            return None;
        }
        (0..s.len() / 2)
            .map(|i| {
                s.get(2 * i..2 * i + 2)
                    .and_then(|p| u8::from_str_radix(p, 16).ok())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
