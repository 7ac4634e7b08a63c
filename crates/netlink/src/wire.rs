//! The netlink framing every rtnetlink codec of this crate shares: the
//! message header walker, the attribute walker, the attribute emitter and
//! the acknowledgement reader (linux/netlink.h, linux/rtnetlink.h).
//!
//! Pure bytes in, bytes out: no socket here. A walker stops (or a parser
//! returns `None`) at the first length that does not fit; nothing indexes
//! past what the kernel sent.

/// struct nlmsghdr (linux/netlink.h): u32 len, u16 type, u16 flags, u32 seq,
/// u32 pid.
pub(crate) const NLMSG_HDRLEN: usize = 16;
/// struct nlattr / struct rtattr: u16 len, u16 type.
pub(crate) const NLA_HDRLEN: usize = 4;
/// nla_type's flag bits (NLA_F_NESTED, NLA_F_NET_BYTEORDER) masked off.
const NLA_TYPE_MASK: u16 = 0x3fff;

// linux/netlink.h: message types and flags.
pub(crate) const NLMSG_ERROR: u16 = 2;
pub(crate) const NLMSG_DONE: u16 = 3;
pub(crate) const NLM_F_REQUEST: u16 = 0x1;
pub(crate) const NLM_F_ACK: u16 = 0x4;
pub(crate) const NLM_F_REPLACE: u16 = 0x100;
pub(crate) const NLM_F_EXCL: u16 = 0x200;
pub(crate) const NLM_F_CREATE: u16 = 0x400;
/// NLM_F_ROOT | NLM_F_MATCH.
pub(crate) const NLM_F_DUMP: u16 = 0x300;
/// In an NLMSG_ERROR: TLVs (struct nlmsgerr_attrs) follow the error.
const NLM_F_ACK_TLVS: u16 = 0x200;
/// In an NLMSG_ERROR: the request copy is only its header (NETLINK_CAP_ACK).
const NLM_F_CAPPED: u16 = 0x100;
/// enum nlmsgerr_attrs: NLMSGERR_ATTR_MSG, the extended ack's text.
const NLMSGERR_ATTR_MSG: u16 = 1;

// linux/rtnetlink.h: the message types this crate sends or reads.
pub(crate) const RTM_NEWLINK: u16 = 16;
pub(crate) const RTM_DELLINK: u16 = 17;
pub(crate) const RTM_GETLINK: u16 = 18;
pub(crate) const RTM_SETLINK: u16 = 19;
pub(crate) const RTM_NEWADDR: u16 = 20;
pub(crate) const RTM_DELADDR: u16 = 21;
pub(crate) const RTM_GETADDR: u16 = 22;
pub(crate) const RTM_NEWROUTE: u16 = 24;
pub(crate) const RTM_DELROUTE: u16 = 25;
pub(crate) const RTM_GETROUTE: u16 = 26;
pub(crate) const RTM_NEWNEIGH: u16 = 28;
pub(crate) const RTM_GETNEIGH: u16 = 30;

pub(crate) const AF_INET: u8 = libc::AF_INET as u8;
pub(crate) const AF_INET6: u8 = libc::AF_INET6 as u8;

pub(crate) fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
pub(crate) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// One netlink message of a datagram.
#[derive(Debug)]
pub(crate) struct Msg<'a> {
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
    /// The bytes after the nlmsghdr, up to nlmsg_len.
    pub payload: &'a [u8],
}

/// The messages of one datagram; stops at the first malformed header.
/// [`Messages::rest`] tells whether the datagram was used up.
pub(crate) fn messages(b: &[u8]) -> Messages<'_> {
    Messages { b }
}

pub(crate) struct Messages<'a> {
    b: &'a [u8],
}

impl Messages<'_> {
    /// Bytes left over: non-zero after a malformed header.
    pub fn rest(&self) -> usize {
        self.b.len()
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Msg<'a>;
    fn next(&mut self) -> Option<Msg<'a>> {
        let b = self.b;
        let len = u32_at(b, 0)? as usize;
        if len < NLMSG_HDRLEN || len > b.len() {
            return None;
        }
        let m = Msg {
            kind: u16_at(b, 4)?,
            flags: u16_at(b, 6)?,
            seq: u32_at(b, 8)?,
            payload: &b[NLMSG_HDRLEN..len],
        };
        self.b = b.get(len.next_multiple_of(4)..).unwrap_or(&[]);
        Some(m)
    }
}

/// Walk the attributes (struct rtattr / nlattr) of `b`, calling `f` with
/// each one's type (flag bits masked) and data. None when an attribute's
/// length does not fit, or when `f` returns None (a value of the wrong
/// size): the message is then malformed as a whole.
pub(crate) fn walk_attrs<'a>(
    b: &'a [u8],
    mut f: impl FnMut(u16, &'a [u8]) -> Option<()>,
) -> Option<()> {
    let mut at = 0;
    while at + NLA_HDRLEN <= b.len() {
        let len = usize::from(u16_at(b, at)?);
        let kind = u16_at(b, at + 2)? & NLA_TYPE_MASK;
        if len < NLA_HDRLEN || at + len > b.len() {
            return None;
        }
        f(kind, &b[at + NLA_HDRLEN..at + len])?;
        at += len.next_multiple_of(4);
    }
    Some(())
}

/// An attribute's value as a fixed-size array (an address, a u32).
pub(crate) fn array<const N: usize>(d: &[u8]) -> Option<[u8; N]> {
    d.try_into().ok()
}

/// A u32 attribute (host byte order).
pub(crate) fn u32_attr(d: &[u8]) -> Option<u32> {
    array::<4>(d).map(u32::from_ne_bytes)
}

/// A string attribute (NLA_STRING / NLA_NUL_STRING): up to the first NUL.
pub(crate) fn str_attr(d: &[u8]) -> Option<String> {
    let end = d.iter().position(|&c| c == 0).unwrap_or(d.len());
    String::from_utf8(d[..end].to_vec()).ok()
}

/// Start a message: its nlmsghdr with the length left to [`finish`].
/// Returns where it starts. NLM_F_REQUEST is always set.
pub(crate) fn begin(buf: &mut Vec<u8>, kind: u16, flags: u16, seq: u32) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_len, by finish
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(&(flags | NLM_F_REQUEST).to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid: the kernel's
    start
}

/// Write the length of the message (or nest) that starts at `start`.
pub(crate) fn finish(buf: &mut [u8], start: usize) {
    let len = (buf.len() - start) as u32;
    buf[start..start + 4].copy_from_slice(&len.to_ne_bytes());
}

/// Append one attribute, padded to 4 bytes (NLA_ALIGN).
pub(crate) fn put_attr(buf: &mut Vec<u8>, kind: u16, data: &[u8]) {
    let len = NLA_HDRLEN + data.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(data);
    buf.resize(buf.len() + (len.next_multiple_of(4) - len), 0);
}

/// Start a nested attribute; close it with [`end_nest`].
pub(crate) fn begin_nest(buf: &mut Vec<u8>, kind: u16) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&0u16.to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    start
}

pub(crate) fn end_nest(buf: &mut [u8], start: usize) {
    let len = (buf.len() - start) as u16;
    buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
}

/// An NLMSG_ERROR's answer (struct nlmsgerr): the errno (0 for an
/// acknowledgement) and the extended ack's text when the kernel gave one.
/// None when the payload is too short to hold the error.
pub(crate) fn ack(m: &Msg<'_>) -> Option<(i32, Option<String>)> {
    let errno = -(u32_at(m.payload, 0)? as i32);
    let mut text = None;
    if m.flags & NLM_F_ACK_TLVS != 0 {
        // The copy of our request: its header only when capped, else all
        // of it (its nlmsg_len says how much).
        let copy = if m.flags & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            u32_at(m.payload, 4)? as usize
        };
        let tlvs = m.payload.get((4 + copy).next_multiple_of(4)..)?;
        // A malformed TLV costs only the text.
        let _ = walk_attrs(tlvs, |k, d| {
            if k == NLMSGERR_ATTR_MSG {
                text = str_attr(d);
            }
            Some(())
        });
    }
    Some((errno, text))
}

#[cfg(test)]
mod tests;
