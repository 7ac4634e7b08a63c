use super::*;

#[test]
fn ethernet_address_round_trips() {
    let body = [0, 1, 8, 0, 0x27, 0, 0, 1];
    let o = ClientLinkLayerAddr::parse(&body).unwrap();
    assert_eq!(o.mac(), Some([8, 0, 0x27, 0, 0, 1]));
    let mut out = vec![];
    o.emit(&mut out);
    assert_eq!(out, body);
    assert_eq!(
        ClientLinkLayerAddr::parse(&[0, 6, 1, 2]).unwrap().mac(),
        None
    );
    assert!(ClientLinkLayerAddr::parse(&[0]).is_err());
}
