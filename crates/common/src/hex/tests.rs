use super::*;

#[test]
fn colon_round_trip_and_separators() {
    assert_eq!(hex_colon(&[0, 1, 0xab]), "00:01:ab");
    assert_eq!(parse_hex("00:01:ab"), Some(vec![0, 1, 0xab]));
    assert_eq!(parse_hex("0-1-ab"), Some(vec![0, 1, 0xab]));
    assert_eq!(parse_hex("0001ab"), Some(vec![0, 1, 0xab]));
    assert_eq!(parse_hex("001"), None);
    assert_eq!(parse_hex("00::01"), None);
}
