use super::*;
use crate::wire::{ClientServerMessage, DhcpOption, Message, MessageType};
use v6common::hex::hex;

#[test]
fn md5_rfc1321_test_suite() {
    for (input, want) in [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (
            "abcdefghijklmnopqrstuvwxyz",
            "c3fcd3d76192e4007dfb496cca67e13b",
        ),
        (
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "d174ab98d277d9f5a5611c2c9f419d9f",
        ),
        (
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a",
        ),
    ] {
        assert_eq!(hex(&md5(input.as_bytes())), want, "{input:?}");
    }
}

#[test]
fn hmac_md5_rfc2202_test_cases() {
    let cases: [(Vec<u8>, Vec<u8>, &str); 7] = [
        (
            vec![0x0b; 16],
            b"Hi There".to_vec(),
            "9294727a3638bb1c13f48ef8158bfc9d",
        ),
        (
            b"Jefe".to_vec(),
            b"what do ya want for nothing?".to_vec(),
            "750c783e6ab0b503eaa86e310a5db738",
        ),
        (
            vec![0xaa; 16],
            vec![0xdd; 50],
            "56be34521d144c88dbb8c733f0e8b3f6",
        ),
        (
            (1..=25).collect(),
            vec![0xcd; 50],
            "697eaf0aca3a3aea3a75164746ffaa79",
        ),
        (
            vec![0x0c; 16],
            b"Test With Truncation".to_vec(),
            "56461ef2342edc00f9bab995690efd4c",
        ),
        (
            vec![0xaa; 80],
            b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
            "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
        ),
        (
            vec![0xaa; 80],
            b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data".to_vec(),
            "6f630fad67cda0ee1fb1f562db3aa53e",
        ),
    ];
    for (key, data, want) in cases {
        assert_eq!(hex(&hmac_md5(&key, &data)), want);
    }
}

fn reconfigure(replay: u64) -> Vec<u8> {
    ClientServerMessage {
        msg_type: MessageType::Reconfigure,
        transaction_id: 0,
        options: vec![
            DhcpOption::ReconfMsg(MessageType::Renew),
            DhcpOption::Auth(Auth::reconfigure_hmac_placeholder(replay)),
        ],
    }
    .to_bytes()
}

#[test]
fn signed_reconfigure_verifies_only_with_its_key_and_a_fresh_counter() {
    let key = [7u8; 16];
    let mut m = reconfigure(5);
    sign_reconfigure(&mut m, &key).unwrap();
    assert_ne!(&m[m.len() - 16..], &[0u8; 16]);
    assert_eq!(verify_reconfigure(&m, &key, None), Ok(5));
    assert_eq!(verify_reconfigure(&m, &key, Some(4)), Ok(5));
    assert_eq!(
        verify_reconfigure(&m, &key, Some(5)),
        Err(auth_error::REPLAYED)
    );
    assert_eq!(
        verify_reconfigure(&m, &[8u8; 16], None),
        Err(auth_error::BAD_DIGEST)
    );
    // Any bit flipped outside the digest breaks it too.
    let mut t = m.clone();
    t[5] ^= 1;
    assert_eq!(
        verify_reconfigure(&t, &key, None),
        Err(auth_error::BAD_DIGEST)
    );
    // It parses back as the options it was built from.
    let Ok(Message::ClientServer(p)) = Message::parse(&m) else {
        panic!()
    };
    assert_eq!(
        p.option(code::RECONF_MSG),
        Some(&DhcpOption::ReconfMsg(MessageType::Renew))
    );
}

#[test]
fn reconfigure_without_auth_or_with_another_protocol_is_refused() {
    let bare = ClientServerMessage {
        msg_type: MessageType::Reconfigure,
        transaction_id: 0,
        options: vec![DhcpOption::ReconfMsg(MessageType::Renew)],
    }
    .to_bytes();
    assert_eq!(
        verify_reconfigure(&bare, &[0; 16], None),
        Err(auth_error::NO_AUTH)
    );
    let mut a = Auth::reconfigure_hmac_placeholder(1);
    a.protocol = 2; // delayed authentication
    let other = ClientServerMessage {
        msg_type: MessageType::Reconfigure,
        transaction_id: 0,
        options: vec![DhcpOption::Auth(a)],
    }
    .to_bytes();
    assert_eq!(
        verify_reconfigure(&other, &[0; 16], None),
        Err(auth_error::NOT_RECONFIGURE_KEY)
    );
}

#[test]
fn key_option_round_trips() {
    let a = Auth::reconfigure_key(3, &[9; 16]);
    let mut v = vec![];
    DhcpOption::Auth(a.clone()).emit(&mut v);
    assert_eq!(v.len(), 4 + 11 + 17);
    let back = crate::wire::parse_options(&v).unwrap();
    assert_eq!(back, vec![DhcpOption::Auth(a.clone())]);
    assert_eq!(a.key(), Some([9; 16]));
    assert_eq!(Auth::reconfigure_hmac_placeholder(3).key(), None);
}
